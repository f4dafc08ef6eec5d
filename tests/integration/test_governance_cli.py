"""`pronto lead export|erase|unmerge` against a SQLite file, through `gateway.cli.main`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.cli import main
from gateway.messages import Inbound
from gateway.store.db import make_engine, make_sessionmaker, migrate
from gateway.store.intake import add_identity
from gateway.store.leads import Store, current_conversation, find_or_create_lead
from gateway.store.models import Identity, Lead, Message

PHONE = "+13055550142"
EMAIL = "maria@example.com"
BODY = "Hi, I want to buy a two bedroom in Brickell"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pronto.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PRONTO_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    asyncio.run(_seed(url))
    return url


async def _seed(url: str) -> None:
    await migrate(url)
    engine = make_engine(url)
    store = Store(make_sessionmaker(engine))
    async with store.transaction() as s:
        inbound = Inbound(channel="sms", provider_id="SM1", address=PHONE, text=BODY)
        lead, _ = await find_or_create_lead(s, inbound, "en")
        lead.name, lead.email = "Maria Lopez", EMAIL
        conv = await current_conversation(s, lead)
        s.add(Message(lead_id=lead.id, conversation_id=conv.id, direction="in", author="lead",
                      channel="sms", address=PHONE, provider_id="SM1", text=BODY))
        await add_identity(s, lead.id, "email", EMAIL)
    await engine.dispose()


async def _rows(url: str, model: type) -> list[object]:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as s:
        rows = list((await s.scalars(select(model))).all())
    await engine.dispose()
    return rows


def test_export_prints_or_writes_everything(db: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lead", "export", "(305) 555-0142"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lead"]["name"] == "Maria Lopez"
    assert [m["text"] for m in data["messages"]] == [BODY]
    out = tmp_path / "lead.json"
    assert main(["lead", "export", EMAIL.upper(), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["identities"][0]["address"] == PHONE
    assert "exported to" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["lead", "export", "+13055550999"], ["lead", "export", "nobody@example.com"],
    ["lead", "export", "4242"], ["lead", "export", "not a phone"],
    ["lead", "erase", "+13055550999", "--yes"], ["lead", "unmerge", "4242", f"phone:{PHONE}"],
    ["lead", "unmerge", "1", "fax:123"], ["lead", "unmerge", "1", "phone:+13055550999"],
])
def test_unknown_leads_and_bad_arguments_exit_2(
    db: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("pronto: ")


def test_erase_needs_yes_then_removes_and_reports(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lead", "erase", PHONE]) == 1
    assert "--yes" in capsys.readouterr().err
    assert [m.text for m in asyncio.run(_rows(db, Message))] == [BODY]  # untouched

    assert main(["lead", "erase", PHONE, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "lead 1 erased" in out and "identities: 2" in out and "Rasa" in out
    [lead] = asyncio.run(_rows(db, Lead))
    assert isinstance(lead, Lead) and lead.erased_at is not None and lead.phone is None
    assert [m.text for m in asyncio.run(_rows(db, Message))] == [""]
    assert asyncio.run(_rows(db, Identity)) == []
    assert main(["lead", "erase", "1", "--yes"]) == 0
    assert "already erased" in capsys.readouterr().out


def test_unmerge_moves_the_identity_to_a_new_lead(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lead", "unmerge", "1", f"email:{EMAIL.upper()}"]) == 0
    assert "to new lead 2" in capsys.readouterr().out
    idents = {(i.kind, i.lead_id) for i in asyncio.run(_rows(db, Identity))
              if isinstance(i, Identity)}
    assert idents == {("phone", 1), ("email", 2)}
    assert main(["lead", "unmerge", "1", f"phone:{PHONE}"]) == 2  # its only identity now
    assert "only identity" in capsys.readouterr().err
