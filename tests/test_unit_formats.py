"""`dayori.formats` on its own: what readers see of dates, lengths and reading times."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from dayori.formats import reading_minutes


@settings(max_examples=200)
@given(st.text(st.sampled_from("会議の時短 \u3000\t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u200bAz。")) | st.text(),
       st.integers(1, 1000))
def test_reading_time_counts_every_character_but_spaces(text: str, per_minute: int) -> None:
    """Full-width spaces, Word's line and paragraph separators and Excel's Alt+Enter are spaces; a zero-width
    space is not (isspace() says so)."""
    counted = sum(1 for character in text if not character.isspace())
    assert reading_minutes(text, per_minute) == max(1, math.ceil(counted / per_minute))
