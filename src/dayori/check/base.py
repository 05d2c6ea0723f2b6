"""What every rule works with: a finding inside a segment (Hit), the settings of a run (Context)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

from dayori.check.analyzer import Analyzer, Token
from dayori.check.text import Segment
from dayori.config import LimitSettings


@dataclass(frozen=True)
class Hit:
    """A rule's finding inside one segment, at character `start` of its text."""

    rule: str
    start: int
    message: str
    suggestion: str = ""


@dataclass(frozen=True)
class Entry:
    """One line of the project dictionary (docs/表記ルール.yml): a wrong spelling and the right one."""

    pattern: re.Pattern[str]
    expected: str
    note: str = ""
    literal: str = ""
    """The pattern when it is plain text: a quick `in` test spares the regular expression."""


@dataclass(frozen=True)
class Context:
    profile: str
    max_sentence_chars: int
    analyzer: Analyzer
    dictionary: tuple[Entry, ...] = ()
    okurigana: str = "本則"
    """本則 or 許容 of 「送り仮名の付け方」 (表わす, 行なう are 許容)."""
    titles: tuple[str, ...] = ()
    """Titles of laws and documents quoted as they are (no wording rule looks inside them)."""
    max_nesting: int = LimitSettings.nesting
    max_caption_bytes: int = LimitSettings.caption_bytes
    """Beyond these a body or captions file is not read (see `dayori.limits`): the build refuses it first."""

    @cached_property
    def dictionary_words(self) -> re.Pattern[str] | None:
        """One expression for the project dictionary's plain words: most segments contain none of them."""
        words = sorted({entry.literal for entry in self.dictionary if entry.literal}, key=len, reverse=True)
        return re.compile("|".join(map(re.escape, words))) if words else None


Analysed = tuple[Segment, list[Token]]

SegmentCheck = Callable[[Segment, list[Token], Context], Iterator[Hit]]
"""A rule that looks at one segment of prose and its words."""
