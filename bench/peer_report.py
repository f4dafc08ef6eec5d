"""Tables of `bench/peer.py`: side by side per path and rate, RSS per process, Pronto's
targets (stated, not asserted), one vs two Rasa replicas, and the per-turn cost split."""

from __future__ import annotations

import os
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.faults_drive import pct
from bench.peer_drive import cell

NAMES = {"rest": "Rasa REST alone", "twilio": "Rasa Twilio connector", "pronto": "Pronto"}


def machine() -> dict[str, Any]:
    """Cores, CPU model, load when the run started and the date (the figures' context)."""
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown")
    return {"nproc": os.cpu_count(), "cpu": model,
            "loadavg_at_start": round(os.getloadavg()[0], 2),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def cost_figures(turns: list[dict[str, float]]) -> dict[str, Any]:
    """Per-turn p50 (ms) of the turn, NLU, action-server calls and policies (the rest)."""
    def p50(key: str) -> float:
        return round(pct([t[key] for t in turns], 50) * 1000, 1)

    calls = [t["calls"] for t in turns]
    return {"turns": len(turns), "turn_p50_ms": p50("turn"), "nlu_p50_ms": p50("nlu"),
            "actions_p50_ms": p50("actions"), "policies_p50_ms": p50("policies"),
            "action_calls_per_turn_p50": pct(calls, 50),
            "action_calls_per_turn_mean": round(statistics.mean(calls), 2) if calls else 0,
            "action_calls_per_turn_max": max(calls, default=0)}


def _row(name: str, r: dict[str, Any]) -> str:
    return (f"| {name} | {r['rate']:g} | {r['offered']} ({r['leads']}) | "
            f"{cell(r['webhook_p50_ms'])} / {cell(r['webhook_p99_ms'])} / "
            f"{cell(r['webhook_max_ms'])} | {cell(r['first_out_p50_s'])} / "
            f"{cell(r['first_out_p99_s'])} | {cell(r.get('new_first_p50_s'))} / "
            f"{cell(r.get('new_first_p99_s'))} | {cell(r['bot_p50_s'])} / {cell(r['bot_p99_s'])} | "
            f"{r['bot_answers_per_s']} | {r['answered']} | {r['errors']} |")


HEAD = ("| path | rate/s | offered (leads) | webhook answer p50 / p99 / max ms "
        "| → first outbound p50 / p99 s | new lead → first outbound p50 / p99 s "
        "| → bot answer p50 / p99 s | bot answers/s "
        "| answered | errors |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")


def saturation(steps: list[dict[str, Any]]) -> dict[str, float]:
    """Each path's throughput at saturation: its most bot answers per second at any rate."""
    out: dict[str, float] = {}
    for r in steps:
        out[r["path"]] = max(out.get(r["path"], 0.0), r["bot_answers_per_s"])
    return out


def closed_medians(closed: list[dict[str, Any]]) -> dict[str, float]:
    """Each path's median bot answers/s over the closed-loop rounds (same workload each)."""
    runs: dict[str, list[float]] = {}
    for r in closed:
        runs.setdefault(r["path"], []).append(r["bot_answers_per_s"])
    return {k: round(statistics.median(v), 2) for k, v in runs.items()}


def _usage(r: dict[str, Any]) -> str:
    cpu = r.get("cpu_s", {})
    return ", ".join(f"{k} {cell(v)} MB / {cell(cpu.get(k))} s" for k, v in r["rss_mb"].items())


def targets(steps: list[dict[str, Any]], closed: list[dict[str, Any]] | None = None
            ) -> list[str]:
    """Pronto's targets from issue 12, each with what was measured (the throughput target
    twice: the most answers/s at any open-loop rate, and the closed loop's medians)."""
    pronto = [r for r in steps if r["path"] == "pronto"]
    sat = saturation(steps)
    lines = []
    at200 = [r for r in pronto if r["rate"] == 200]
    if at200:
        v, served = at200[0]["webhook_p99_ms"], at200[0].get("served_p99_le_ms")
        lines.append(f"webhook answer p99 under 20 ms at 200/s: {cell(v)} ms at the driver "
                     f"→ {'met' if v is not None and v < 20 else 'missed'}; in `pronto serve` "
                     f"(pronto_webhook_seconds) ≤ {cell(served)} ms; the driver's own loop "
                     f"lag p99 {cell(at200[0].get('driver_lag_p99_ms'))} ms")
    if pronto:
        for key, what in (("new_first_p99_s", "new leads (the acknowledgement)"),
                          ("first_out_p99_s", "every message, follow-ups too")):
            worst = [r.get(key) for r in pronto]
            ok = all(v is not None and v < 3 for v in worst)
            lines.append(f"first outbound p99 under 3 s at every rate, {what}: "
                         f"{', '.join(cell(v) for v in worst)} s → {'met' if ok else 'missed'}")
    for how, got in (("open loop (most at any rate)", sat),
                     ("closed loop (the same workload, median of the rounds)",
                      closed_medians(closed or []))):
        if "pronto" in got and got.get("rest"):
            share = got["pronto"] / got["rest"]
            lines.append(f"bot-answer throughput ≥ 90 % of Rasa REST alone, {how}: "
                         f"{got['pronto']} vs {got['rest']} answers/s = {share:.0%} → "
                         f"{'met' if share >= 0.9 else 'missed'}")
    return lines


def print_closed(closed: list[dict[str, Any]]) -> None:
    """The closed loop's rounds, per path, and each path's median."""
    print("\n### Closed loop: the same conversations through each path (throughput at "
          "saturation)\n")
    print("| path | round | seconds | messages (leads) | bot answers/s | answered | "
          "→ bot answer p50 / p99 s | new lead → first outbound p50 / p99 s | errors |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in closed:
        print(f"| {NAMES[r['path']]} | {r['repeat']} | {r['seconds']} | {r['offered']} "
              f"({r['leads']}) | {r['bot_answers_per_s']} | {r['answered']} | "
              f"{cell(r['bot_p50_s'])} / {cell(r['bot_p99_s'])} | "
              f"{cell(r.get('new_first_p50_s'))} / {cell(r.get('new_first_p99_s'))} | "
              f"{r['errors']} |")
    print("\nmedian bot answers/s: " + ", ".join(
        f"{NAMES[k]} {v}" for k, v in closed_medians(closed).items()))
    print("\n| path | round | per process: RSS / CPU used |\n| --- | --- | --- |")
    for r in closed:
        print(f"| {NAMES[r['path']]} | {r['repeat']} | {_usage(r)} |")


def print_steps(steps: list[dict[str, Any]], closed: list[dict[str, Any]]) -> None:
    """The side-by-side table, saturation throughput, errors, RSS and targets."""
    print("\n### Side by side (one Rasa process, one model; paths measured one after another)\n")
    print(HEAD)
    for r in steps:
        print(_row(NAMES[r["path"]], r))
    print("\nthroughput at saturation (most bot answers/s at any rate): "
          + ", ".join(f"{NAMES[k]} {v}" for k, v in saturation(steps).items()))
    kinds = "; ".join(f"{NAMES[r['path']]} {r['rate']:g}/s {r['error_statuses']}"
                      for r in steps if r["errors"])
    print(f"\nerrors by kind: {kinds or 'none'}")
    print("\n| path | rate/s | per process: RSS at the end of the step / CPU used during it |"
          "\n| --- | --- | --- |")
    for r in steps:
        print(f"| {NAMES[r['path']]} | {r['rate']:g} | {_usage(r)} |")
    served = [r for r in steps if r.get("served")]
    if served:
        print("\nPronto's own webhook answer (`pronto_webhook_seconds` in `pronto serve`, the "
              "bucket bound): " + "; ".join(
                  f"{r['rate']:g}/s p50 ≤ {cell(r['served_p50_le_ms'])} ms, p99 ≤ "
                  f"{cell(r['served_p99_le_ms'])} ms ({r['served']} webhooks)" for r in served))
    if closed:
        print_closed(closed)
    if lines := targets(steps, closed):
        print("\nPronto's targets (issue 12):\n" + "\n".join(f"- {x}" for x in lines))


def _replicas(r: dict[str, Any]) -> str:
    n = r["replicas"]
    return f"{NAMES[r['path']]}, {n} replica{'s' if n > 1 else ''}"


def print_all(result: dict[str, Any]) -> None:
    """Every table of the run."""
    print(f"\nmachine: {result['machine']}; database: {result['database']}; "
          f"settings: {result['settings']}; whole run {result['seconds']} s")
    if result.get("steps") or result.get("closed"):
        print_steps(result.get("steps", []), result.get("closed", []))
    if result.get("replicas"):
        print("\n### 1 and 2 Rasa replicas (one Redis tracker store)\n")
        print(HEAD)
        for r in result["replicas"]:
            print(_row(_replicas(r), r))
        print("\n| run | per process: RSS / CPU used |\n| --- | --- |")
        for r in result["replicas"]:
            print(f"| {_replicas(r)} | {_usage(r)} |")
    if c := result.get("cost_split"):
        print(f"\n### Per-turn cost, single stream ({c['turns']} turns)\n")
        print("| turn p50 | NLU (/model/parse) p50 | action-server calls p50 | policies ≈ "
              "turn − NLU − actions, p50 | action calls per turn p50 / mean / max |")
        print("| --- | --- | --- | --- | --- |")
        print(f"| {c['turn_p50_ms']} ms | {c['nlu_p50_ms']} ms | {c['actions_p50_ms']} ms | "
              f"{c['policies_p50_ms']} ms | {c['action_calls_per_turn_p50']} / "
              f"{c['action_calls_per_turn_mean']} / {c['action_calls_per_turn_max']} |")
