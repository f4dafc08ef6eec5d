"""Areas as a person would write them on a card; no preference is None."""

from __future__ import annotations

import pytest

from actions.normalise import clean_location

EN_CASES: list[tuple[str, str | None]] = [
    ("doral", "Doral"),
    ("in coral gables pls", "Coral Gables"),
    ("little havana", "Little Havana"),
    ("anywhere in Miami", "Miami"),
    ("somewhere near Kendall", "Kendall"),
    ("Miami Beach or Doral", "Miami Beach or Doral"),
    ("miami beach or doral", "Miami Beach or Doral"),
    ("around Brickell please", "Brickell"),
    ("the Doral area", "Doral"),
    ("anywhere", None),
    ("any area", None),
    ("no preference", None),
    ("doesn't matter", None),
    ("yes", None),
]
ES_CASES: list[tuple[str, str | None]] = [
    ("cerca de Brickell", "Brickell"),
    ("en el doral", "Doral"),
    ("por la zona de Kendall", "Kendall"),
    ("en coral gables por favor", "Coral Gables"),
    ("cualquier zona de Miami", "Miami"),
    ("hialeah", "Hialeah"),
    ("Coral Gables o Doral", "Coral Gables o Doral"),
    ("cualquier zona", None),
    ("me da igual", None),
    ("no importa", None),
    ("cualquiera", None),
    ("sí", None),
]


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_clean_location_en(text: str, expected: str | None) -> None:
    assert clean_location(text) == expected


@pytest.mark.parametrize(("text", "expected"), ES_CASES)
def test_clean_location_es(text: str, expected: str | None) -> None:
    assert clean_location(text) == expected
