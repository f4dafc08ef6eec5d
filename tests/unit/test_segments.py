"""SMS segments (pure): GSM-7 vs UCS-2, segment sizes, the Spanish transliteration, budgets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.domain.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SegmentInfo,
    check_templates,
    encode_info,
    non_gsm7,
    to_gsm7,
)

ROOT = Path(__file__).resolve().parents[2]


# -- encoding ------------------------------------------------------------------------------------


def test_plain_english_is_gsm7_one_segment() -> None:
    assert encode_info("Hi! Thanks for reaching out.") == SegmentInfo("GSM-7", 1, 28)


def test_empty_text_costs_nothing() -> None:
    assert encode_info("") == SegmentInfo("GSM-7", 0, 0)


def test_160_gsm_chars_are_1_segment_and_161_are_2() -> None:
    assert encode_info("a" * 160) == SegmentInfo("GSM-7", 1, 160)
    assert encode_info("a" * 161) == SegmentInfo("GSM-7", 2, 161)


def test_multipart_gsm_segments_hold_153() -> None:
    assert encode_info("a" * 306).segments == 2
    assert encode_info("a" * 307).segments == 3


def test_euro_counts_2_septets() -> None:
    assert encode_info("€") == SegmentInfo("GSM-7", 1, 2)
    assert encode_info("a" * 159 + "€") == SegmentInfo("GSM-7", 2, 161)


@pytest.mark.parametrize("char", list("^{}\\[~]|€\f"))
def test_every_extension_char_counts_2(char: str) -> None:
    assert encode_info(char).units == 2
    assert encode_info(char).encoding == "GSM-7"


def test_an_extension_char_is_not_split_across_segments() -> None:
    # 152 septets then "€" (2): it does not fit in the first 153, so it starts segment 2, and
    # 306 septets need 3 segments, not 306 / 153 = 2.
    text = "a" * 152 + "€" + "a" * 152
    assert encode_info(text) == SegmentInfo("GSM-7", 3, 306)
    assert encode_info("a" * 151 + "€" + "a" * 153) == SegmentInfo("GSM-7", 2, 306)


def test_spanish_gsm_letters_keep_gsm7() -> None:
    text = "¿Qué tal? ¡Señor Muñoz! Pingüino, ÑANDÚ"[:-1] + "Ü É è ù ì ò à Ç ß Ä Ö"
    assert encode_info(text).encoding == "GSM-7"


@pytest.mark.parametrize("char", list("áíóúÁÍÓÚçêãõ"))
def test_accents_gsm7_lacks_make_ucs2(char: str) -> None:
    assert encode_info("Hola " + char).encoding == "UCS-2"


def test_one_a_acute_makes_spanish_ucs2_with_70_char_segments() -> None:
    text = "Hola, gracias por escribir. Le respondemos en un momento, no se preocupe: está bien."
    assert len(text) == 84
    assert encode_info(text.replace("á", "a")) == SegmentInfo("GSM-7", 1, 84)
    assert encode_info(text) == SegmentInfo("UCS-2", 2, 84)
    assert encode_info("á" * 70) == SegmentInfo("UCS-2", 1, 70)
    assert encode_info("á" * 71) == SegmentInfo("UCS-2", 2, 71)
    assert encode_info("á" * 134).segments == 2
    assert encode_info("á" * 135).segments == 3


def test_emoji_are_2_utf16_units_and_not_split() -> None:
    assert encode_info("🏡") == SegmentInfo("UCS-2", 1, 2)
    assert encode_info("a" * 68 + "🏡") == SegmentInfo("UCS-2", 1, 70)
    assert encode_info("a" * 69 + "🏡") == SegmentInfo("UCS-2", 2, 71)
    # 66 units then an emoji: it does not fit in the first 67, so segment 2 starts with it.
    assert encode_info("a" * 66 + "🏡" + "a" * 66) == SegmentInfo("UCS-2", 3, 134)


def test_tab_and_curly_quotes_are_not_gsm7() -> None:
    assert encode_info("a\tb").encoding == "UCS-2"
    assert encode_info("it\u2019s").encoding == "UCS-2"


def test_gsm_table_has_127_basic_chars_and_10_extension() -> None:
    assert len(GSM7_BASIC) == 127 and len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION
    for char in "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà":
        assert char in GSM7_BASIC, char
    for char in "áíóúÁÍÓÚç`":
        assert char not in GSM7_BASIC, char


# -- transliteration ------------------------------------------------------------------------------


def test_to_gsm7_removes_only_what_gsm7_lacks() -> None:
    assert to_gsm7("¿Está disponible el año próximo? ¡Sí, Ángel!") == (
        "¿Esta disponible el año proximo? ¡Si, Angel!"
    )
    assert to_gsm7("ÁÉÍÓÚ áéíóú ñÑ üÜ") == "AÉIOU aéiou ñÑ üÜ"


def test_to_gsm7_replaces_typography() -> None:
    assert to_gsm7("“Hola” – it’s…\u00a0ok") == '"Hola" - it\'s... ok'


def test_to_gsm7_keeps_what_it_cannot_replace() -> None:
    assert to_gsm7("Casa 🏡") == "Casa 🏡"


def test_to_gsm7_makes_a_spanish_text_gsm7_and_cheaper() -> None:
    text = "Gracias por su interés. ¿Cuándo podría visitar la casa? Está en Coral Gables, cerca."
    assert encode_info(text).encoding == "UCS-2"
    out = to_gsm7(text)
    assert encode_info(out) == SegmentInfo("GSM-7", 1, len(text))
    assert non_gsm7(text) == ["á", "í"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION) + list("áíóúÁÍÓÚ"))))
def test_to_gsm7_of_spanish_is_always_gsm7_and_keeps_length(text: str) -> None:
    out = to_gsm7(text)
    assert encode_info(out).encoding == "GSM-7"
    assert len(out) == len(text)
    assert to_gsm7(out) == out


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_segments_cover_units(text: str) -> None:
    info = encode_info(text)
    per = {"GSM-7": (160, 153), "UCS-2": (70, 67)}[info.encoding]
    if info.units <= per[0]:
        assert info.segments == (1 if text else 0)
    else:
        # At least units/153 (or 67); never more than one extra for unsplittable pairs.
        assert -(-info.units // per[1]) <= info.segments <= info.units // (per[1] - 1) + 1


# -- template budgets -------------------------------------------------------------------------


def test_check_templates_names_template_and_language_over_budget() -> None:
    templates = {
        "ack": {"en": "Hi {name}!", "es": "¡Hola {name}! Recibimos su mensaje; " + "x" * 40 + "á"},
        "help": {"en": "a" * 161, "es": "Ayuda"},
    }
    warnings = check_templates(templates, {"en": 1, "es": 1})
    assert len(warnings) == 2
    assert warnings[0].startswith("template 'ack' (es): 2 SMS segments (UCS-2")
    assert "because of 'á'" in warnings[0]
    assert warnings[1].startswith("template 'help' (en): 2 SMS segments (GSM-7, 161 units)")


def test_check_templates_counts_placeholders_as_written() -> None:
    # As written, and "{" and "}" are GSM-7 extension characters: 2 septets each.
    text = "{brokerage}" + "a" * 147  # 9 + 4 + 147 = 160 septets, longer once filled in
    assert encode_info(text).units == 160
    assert check_templates({"t": {"en": text}}, {"en": 1}) == []
    assert check_templates({"t": {"en": text + "!"}}, {"en": 1}) != []


def test_check_templates_fallback_budget_and_unchecked_languages() -> None:
    templates = {"t": {"pt": "a" * 200, "fr": "a" * 200}}
    assert check_templates(templates, {}) == []
    assert len(check_templates(templates, {"*": 1})) == 2
    assert len(check_templates(templates, {"*": 1, "pt": 2})) == 1


def test_shipped_templates_are_checked() -> None:
    templates = yaml.safe_load((ROOT / "config" / "templates.yml").read_text(encoding="utf-8"))
    assert check_templates(templates, {"en": 2, "es": 4}) == []  # none is that long
    assert check_templates(templates, {"en": 1, "es": 1})  # the Spanish agent texts are long
