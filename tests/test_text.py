"""seminar.text: one cleaning for every text a person types."""

from __future__ import annotations

import pytest

from seminar.registration.validation import InvalidDetails
from seminar.registration.validation import clean_text as clean_registrant_text
from seminar.text import RefusedText, clean_text, header_line


@pytest.mark.parametrize("separator", ["\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\r", "\n", "\r\n", "\t"])
def test_one_line_text_gets_line_separators_as_one_space(separator):
    assert clean_text(f"  Séminaire{separator}{separator} 20  ans ") == "Séminaire 20 ans"


def test_one_line_text_keeps_no_break_spaces():
    assert clean_text("Programme\u00a0: matin") == "Programme\u00a0: matin"


def test_multi_line_text_keeps_line_breaks_as_lf():
    assert clean_text("a\r\nb\rc\x0bd\u2028e\u2029f\n\tg", multiline=True) == "a\nb\nc\nd\ne\nf\n\tg"


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f", "\u202e", "\u2066", "\ue000"])
def test_other_control_and_format_characters_are_refused(character):
    for multiline in (False, True):
        with pytest.raises(RefusedText) as refused:
            clean_text(f"a{character}b", multiline=multiline)
        assert refused.value.character == character


@pytest.mark.parametrize("character", ["\u00ad", "\u200b", "\u2060", "\ufeff"])
def test_invisible_characters_pasted_inside_words_are_dropped(character):
    for multiline in (False, True):
        assert clean_text(f"Canc{character}éro{character}pôle", multiline=multiline) == "Cancéropôle"


def test_joiners_are_kept():
    text = "\u0645\u200c\u0645 \U0001f469\u200d\U0001f52c"
    assert clean_text(text) == text


def test_length_is_checked_after_cleaning():
    assert clean_text("a\r\nb", max_length=3) == "a b"
    with pytest.raises(RefusedText) as refused:
        clean_text("abcd", max_length=3)
    assert refused.value.max_length == 3 and not refused.value.character


def test_header_line_never_refuses():
    assert header_line("Séminaire\x0b20\r\nans\x07\x00") == "Séminaire 20 ans"


def test_registrant_one_line_field_gets_a_pasted_line_break_as_a_space(app):
    with app.app_context():
        assert clean_registrant_text("organisation", "Inserm\x0bLyon") == "Inserm Lyon"
        with pytest.raises(InvalidDetails) as refused:
            clean_registrant_text("organisation", "Inserm\x07")
    assert set(refused.value.errors) == {"organisation"}
