"""Agent SMS/Telegram command parser (pure), English and Spanish."""

from __future__ import annotations

import pytest

from gateway.domain.agent_commands import Command, parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACCEPT 4821", Command("accept", "4821")),
        ("accept 4821", Command("accept", "4821")),
        ("A 4821", Command("accept", "4821")),
        ("1", Command("accept")),
        ("Aceptar 4821", Command("accept", "4821")),
        ("acepto", Command("accept")),
        ("accept:4821", Command("accept", "4821")),
        ("PASS 4821", Command("pass", "4821")),
        ("pasar 4821", Command("pass", "4821")),
        ("pass:4821", Command("pass", "4821")),
        ("#4821 Hi, this is Ana", Command("relay", "4821", "Hi, this is Ana")),
        ("#4821: hola", Command("relay", "4821", "hola")),
        ("DONE 4821", Command("done", "4821")),
        ("listo 4821", Command("done", "4821")),
        ("LEADS", Command("leads")),
        ("clientes", Command("leads")),
        ("mis clientes", Command("leads")),
        ("HELP", Command("help")),
        ("ayuda", Command("help")),
        ("?", Command("help")),
        ("", Command("help")),
        ("ACEPT 4821", Command("unknown")),
        ("pase 4821", Command("unknown")),
        ("#4821", Command("unknown")),
        ("listo", Command("unknown")),  # DONE needs a code
        ("done", Command("unknown")),
        ("Hi Maria, I can show it Saturday", Command("reply", None,
                                                      "Hi Maria, I can show it Saturday")),
        ("a las 5 te llamo", Command("reply", None, "a las 5 te llamo")),
        ("Room 4821", Command("reply", None, "Room 4821")),
        ("Sure", Command("reply", None, "Sure")),
    ],
)
def test_parse(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


def test_appt_takes_a_code_and_the_time_as_typed() -> None:
    assert parse_command("APPT 4821 tomorrow 5pm") == Command("appt", "4821", "tomorrow 5pm")
    assert parse_command("cita 4821 mañana a las 5") == Command("appt", "4821",
                                                               "mañana a las 5")
    assert parse_command("showing 4821: sat 10am") == Command("appt", "4821", "sat 10am")
    assert parse_command("appt 4821") == Command("appt", "4821", "")
    # Without a code it is no command (and never a code named "TOMORROW").
    assert parse_command("showing tomorrow").kind == "unknown"
