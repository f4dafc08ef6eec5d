"""Names as the person would sign them, or None when the answer is not a name."""

from __future__ import annotations

import pytest

from actions.normalise import clean_name, looks_like_name

EN_CASES: list[tuple[str, str | None]] = [
    ("Maribel Ortega", "Maribel Ortega"),
    ("maribel ortega", "Maribel Ortega"),
    ("MARIBEL ORTEGA", "Maribel Ortega"),
    ("john", "John"),
    ("my name is john smith", "John Smith"),
    ("my name is John Smith, thanks", "John Smith"),
    ("My name's Sarah", "Sarah"),
    ("name's Bond", "Bond"),
    ("I'm Carlos", "Carlos"),
    ("im carlos", "Carlos"),
    ("I’m Zoë", "Zoë"),
    ("it's Dana", "Dana"),
    ("this is Mike Brown", "Mike Brown"),
    ("this is Will", "Will"),
    ("Mike here", "Mike"),
    ("call me Liz", "Liz"),
    ("hi, I'm Tom", "Tom"),
    ("hey it's Jen!", "Jen"),
    ("Ana Lopez.", "Ana Lopez"),
    ("JOSÉ-LUIS o'neill", "José-Luis O'Neill"),
    ("mary-kate olsen", "Mary-Kate Olsen"),
    ("o'brien", "O'Brien"),
    ("d'angelo russell", "D'Angelo Russell"),
    ("Sean O'Connor", "Sean O'Connor"),
    ("McDonald", "McDonald"),
    ("john paul jones smith", "John Paul Jones Smith"),
    ("yes", None),
    ("no", None),
    ("ok", None),
    ("hi", None),
    ("thanks", None),
    ("sure", None),
    ("i would rather not say", None),
    ("prefer not to say", None),
    ("none of your business", None),
    ("why do you need it", None),
    ("why?", None),
    ("what's this about?", None),
    ("doesn't matter", None),
    ("305 555 0100", None),
    ("john123", None),
    ("john paul george ringo starr", None),  # five words
    ("I'm interested in buying", None),
    ("I'm good", None),
    ("i want to buy a house", None),
]

ES_CASES: list[tuple[str, str | None]] = [
    ("mi nombre es lucia fernandez", "Lucia Fernandez"),
    ("mi nombre es Pedro Sánchez.", "Pedro Sánchez"),
    ("me llamo ana lopez", "Ana Lopez"),
    ("Me llamo María José", "María José"),
    ("me llamo Juan, gracias", "Juan"),
    ("sí, me llamo Laura", "Laura"),
    ("soy María", "María"),
    ("soy josé", "José"),
    ("hola, soy Ana", "Ana"),
    ("hola soy carlos perez", "Carlos Perez"),
    ("habla Carmen", "Carmen"),
    ("Carmen aquí", "Carmen"),
    ("es Roberto", "Roberto"),
    ("me dicen Pepe", "Pepe"),
    ("José Luis", "José Luis"),
    ("maria de la cruz", "Maria de la Cruz"),
    ("MARIA DE LA CRUZ", "Maria de la Cruz"),
    ("juan del castillo", "Juan del Castillo"),
    ("lucía", "Lucía"),
    ("ÁNGEL", "Ángel"),
    ("rocío martínez", "Rocío Martínez"),
    ("Ramón Núñez", "Ramón Núñez"),
    ("maría-josé garcía", "María-José García"),
    ("Luisa Fernanda Gómez Ruiz", "Luisa Fernanda Gómez Ruiz"),
    ("gabriela", "Gabriela"),
    ("Rosa", "Rosa"),
    ("sí", None),
    ("si", None),
    ("hola", None),
    ("gracias", None),
    ("ok gracias", None),
    ("claro", None),
    ("no", None),
    ("no quiero decirlo", None),
    ("prefiero no decirlo", None),
    ("no te lo voy a decir", None),
    ("¿para qué lo necesitas?", None),
    ("por qué", None),
    ("no importa", None),
    ("mi número es 305 555 0100", None),
    ("soy yo", None),
    ("soy de Miami", None),
    ("soy agente", None),
    ("quiero comprar una casa", None),
    ("ana maria lopez garcia perez", None),  # five words
]


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_clean_name_en(text: str, expected: str | None) -> None:
    assert clean_name(text) == expected
    assert looks_like_name(text) is (expected is not None)


@pytest.mark.parametrize(("text", "expected"), ES_CASES)
def test_clean_name_es(text: str, expected: str | None) -> None:
    assert clean_name(text) == expected
    assert looks_like_name(text) is (expected is not None)
