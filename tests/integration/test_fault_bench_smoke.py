"""`bench/faults.py --smoke`: every fault scenario still runs and keeps its invariant.

Each scenario runs as a subprocess (its own gateway, workers, redis-server and fakes, all on
127.0.0.1), at tiny sizes: this shows the benchmark works, not how fast Pronto is. The
PostgreSQL scenario needs TEST_DATABASE_URL's server (the local one the benchmark uses).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, TEST_DATABASE_URL

CHEAP = ["worker_kill", "redis_restart", "rasa_outage", "rebalance", "timers"]


def _run(scenario: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if not TEST_DATABASE_URL:
        # Without a PostgreSQL for the tests, the benchmark must not pick the local one up.
        env["PRONTO_FAULTS_PG"] = "postgresql://postgres@127.0.0.1:1/postgres"
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "faults.py"), "--smoke", "--scenario", scenario],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("scenario", CHEAP)
def test_fault_scenario_smoke(scenario: str) -> None:
    proc = _run(scenario, timeout=80)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f'"scenario": "{scenario}", "ok": true' in proc.stdout


@pytest.mark.timeout(90)
@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_sql_outage_smoke() -> None:
    proc = _run("sql_outage", timeout=80)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
