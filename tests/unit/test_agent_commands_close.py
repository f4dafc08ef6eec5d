"""DONE <code> with an outcome closes the conversation; plain DONE <code> still hands it back."""

from __future__ import annotations

import pytest

from gateway.domain.agent_commands import Command, parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DONE 4821 won", Command("close", "4821", outcome="won")),
        ("done 4821 WON", Command("close", "4821", outcome="won")),
        ("DONE 4821 lost", Command("close", "4821", outcome="lost")),
        ("DONE 4821 no-answer", Command("close", "4821", outcome="no_answer")),
        ("done 4821 no answer", Command("close", "4821", outcome="no_answer")),
        ("done 4821 no_answer", Command("close", "4821", outcome="no_answer")),
        ("LISTO 4821 ganado", Command("close", "4821", outcome="won")),
        ("listo 4821 perdido.", Command("close", "4821", outcome="lost")),
        ("Listo 4821 sin-respuesta", Command("close", "4821", outcome="no_answer")),
        ("listo 4821 sin respuesta", Command("close", "4821", outcome="no_answer")),
        ("done:4821 won", Command("close", "4821", outcome="won")),
        # An outcome Pronto does not know: the agent is shown the usage, nothing is relayed.
        ("DONE 4821 maybe", Command("close", "4821", outcome=None)),
        ("listo 4821 te llamo mañana", Command("close", "4821", outcome=None)),
        # Plain DONE keeps its meaning: back to the assistant.
        ("DONE 4821", Command("done", "4821")),
        ("listo 4821", Command("done", "4821")),
        # Free text that starts with "listo" and has no code stays text for the lead.
        ("Listo, mañana paso por la casa", Command("reply", None,
                                                   "Listo, mañana paso por la casa")),
        ("listo nos vemos", Command("reply", None, "listo nos vemos")),
    ],
)
def test_done_with_outcome(text: str, expected: Command) -> None:
    assert parse_command(text) == expected
