"""Bedroom counts: an integer, a studio is 0, a range keeps its lower end, "any" is None."""

from __future__ import annotations

import pytest

from actions.normalise import parse_bedrooms

EN_CASES: list[tuple[str, int | None]] = [
    ("four", 4),
    ("4", 4),
    ("THREE", 3),
    ("six", 6),
    ("two", 2),
    ("just one", 1),
    ("three bedrooms", 3),
    ("five bedrooms", 5),
    ("3 bed", 3),
    ("3br", 3),
    ("3 bd", 3),
    ("3bdrm", 3),
    ("2 beds please", 2),
    ("3 bedroom house", 3),
    ("need 4 rooms", 4),
    ("one bedroom", 1),
    ("a one bedroom", 1),
    ("a bedroom", 1),
    ("1 bed", 1),
    ("at least three", 3),
    ("minimum 2", 2),
    ("2 bedrooms minimum", 2),
    ("3+", 3),
    ("3 or more bedrooms", 3),
    ("more than two", 3),  # a range from 3: the lower end
    ("a 2/2", 2),  # 2 bed / 2 bath
    ("3/2", 3),
    ("two bed two bath", 2),
    ("3 bed 2 bath", 3),
    ("2 bath 4 bedrooms", 4),
    ("2 or 3", 2),
    ("three or four", 3),
    ("3-4 bedrooms", 3),
    ("three to four", 3),
    ("studio", 0),
    ("a studio", 0),
    ("studio or one bedroom", 0),
    ("any", None),
    ("no preference", None),
    ("doesn't matter", None),
    ("whatever", None),
    ("not sure", None),
    ("1800", None),
    ("400k", None),
    ("2 baths", None),
]

ES_CASES: list[tuple[str, int | None]] = [
    ("cuatro", 4),
    ("tres", 3),
    ("dos", 2),
    ("cinco", 5),
    ("uno", 1),
    ("una", 1),
    ("TRES HABITACIONES", 3),
    ("tres recámaras", 3),
    ("4 recámaras", 4),
    ("cuatro cuartos", 4),
    ("dos cuartos", 2),
    ("4 cuartos por favor", 4),
    ("necesito 3 cuartos", 3),
    ("dos habitaciones", 2),
    ("3 habitaciones", 3),
    ("seis habitaciones", 6),
    ("3 hab", 3),
    ("tres dormitorios", 3),
    ("una habitación", 1),
    ("un cuarto", 1),
    ("una recámara", 1),
    ("al menos tres", 3),
    ("mínimo dos", 2),
    ("3 o más", 3),
    ("más de dos", 3),  # a range from 3: the lower end
    ("tres o cuatro", 3),
    ("dos o tres", 2),
    ("una o dos", 1),
    ("entre 2 y 3", 2),
    ("de 2 a 3 habitaciones", 2),
    ("2 a 3", 2),
    ("3 habitaciones y 2 baños", 3),
    ("2 baños 3 habitaciones", 3),
    ("dos recámaras y dos baños", 2),
    ("estudio", 0),
    ("un estudio", 0),
    ("monoambiente", 0),
    ("cualquiera", None),
    ("da igual", None),
    ("me da igual", None),
    ("no importa", None),
    ("sin preferencia", None),
    ("no sé", None),
    ("2 mil", None),
    ("2 baños", None),
]


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_parse_bedrooms_en(text: str, expected: int | None) -> None:
    assert parse_bedrooms(text) == expected


@pytest.mark.parametrize(("text", "expected"), ES_CASES)
def test_parse_bedrooms_es(text: str, expected: int | None) -> None:
    assert parse_bedrooms(text) == expected
