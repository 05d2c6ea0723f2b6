"""SudachiPy behind a small interface: tokens with offsets, normalised forms and conjugation types.

The dictionary is loaded on first use only, so a build whose bodies are all cached never loads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple


class Token(NamedTuple):
    """One morpheme: `begin`/`end` index the analysed text; `pos` is Sudachi's six-part part of speech and
    `kind` its first part. (A tuple: a cold check makes a million of them.)"""

    surface: str
    normalized: str
    lemma: str
    pos: tuple[str, ...]
    begin: int
    end: int
    reading: str = ""
    """Only for verbs (the rules that read readings look at verbs only)."""
    oov: bool = False
    """Not in Sudachi's dictionary: a word it guessed from the characters (パスワードド)."""
    kind: str = ""


@dataclass
class Analyzer:
    """One tokenizer per check run (building one costs about 0.2 s); `loaded` tells whether it was needed."""

    _lemma_types: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    _readings: dict[tuple[str, str], str] = field(default_factory=dict)
    _word_readings: dict[str, frozenset[str]] = field(default_factory=dict)
    _pos: dict[int, tuple[str, ...]] = field(default_factory=dict)
    _nouns_alone: dict[str, bool] = field(default_factory=dict)
    _words: dict[int, tuple[str, str, tuple[str, ...], str, str]] = field(default_factory=dict)
    """What a dictionary word's id says (normalised form, lemma, part of speech, reading, kind): a word met
    again costs two calls into Sudachi instead of seven, and its strings are shared, not made anew."""
    _short: dict[str, list[Token]] = field(default_factory=dict)
    """The tokens of short texts, which recur (headings, table cells, tags)."""

    @cached_property
    def _dictionary(self) -> Any:
        from dayori.reading import sudachi_dictionary

        return sudachi_dictionary()

    @cached_property
    def _tokenizer(self) -> Any:
        """Loads only the fields `_word` reads: a word's surface is taken from the analysed text (as `surface()`
        gives it for every word), so the dictionary's copy of it is not decoded for each word."""
        from sudachipy import SplitMode  # type: ignore[import-untyped]

        return self._dictionary.tokenizer(mode=SplitMode.C, fields=set(TOKEN_FIELDS))

    @cached_property
    def _morphemes(self) -> Any:
        """One list Sudachi writes every analysis into, rather than a new one each call."""
        return self._tokenizer.tokenize("")

    @property
    def loaded(self) -> bool:
        return "_tokenizer" in self.__dict__

    def load(self) -> None:
        """Loads the dictionary now (before other processes are forked, so that they share it)."""
        assert self._tokenizer is not None

    def __reduce__(self) -> tuple[type[Analyzer], tuple[()]]:
        """Sent to another process as a new analyzer, which loads its own dictionary there."""
        return (Analyzer, ())

    def tokens(self, text: str) -> list[Token]:
        """Sudachi takes at most 49,149 bytes at once: a longer paragraph (a pasted report) is analysed in
        pieces cut after a 。 or a line break where there is one."""
        if len(text) <= SHORT_TEXT:
            known = self._short.get(text)
            if known is None:
                known = self._tokenize(text, 0) if text.strip() else []
                if len(self._short) < SHORT_TEXTS_KEPT:
                    self._short[text] = known
            return list(known)
        result: list[Token] = []
        start = 0
        while start < len(text):
            end = _piece_end(text, start)
            if text[start:end].strip():
                result += self._tokenize(text[start:end], start)
            start = end
        return result

    def tokens_of(self, texts: list[str]) -> list[list[Token]]:
        """The tokens of each text, each analysed on its own: a text's first word reads the same whether it
        opens a file or follows another paragraph (joined texts made Sudachi read 前年度 as 前|年度 after a line
        break), and short calls cost Sudachi less per character than long ones."""
        return [self.tokens(text) for text in texts]

    def _tokenize(self, text: str, start: int) -> list[Token]:
        """Every call into Sudachi costs: a dictionary word is known by its id after its first appearance
        (its surface is the text between the end of the word before and its own end), and a word Sudachi
        guessed or joined (numbers, unknown katakana) is read in full. The reading, which only verbs need, is
        kept for verbs only."""
        words = self._words
        known = words.get
        new = tuple.__new__
        tokens: list[Token] = []
        append = tokens.append
        begin = 0
        for m in self._tokenizer.tokenize(text, out=self._morphemes):
            end = m.end()
            word = known(m.word_id())
            if word is None:
                word = self._word(m)
                if m.is_oov():
                    normalized, lemma, part, reading, kind = word
                    append(new(Token, (m.surface(), normalized, lemma, part, begin + start, end + start, reading,
                                       True, kind)))
                    begin = end
                    continue
                words[m.word_id()] = word
            normalized, lemma, part, reading, kind = word
            append(new(Token, (text[begin:end], normalized, lemma, part, begin + start, end + start, reading, False,
                               kind)))
            begin = end
        return tokens

    def _word(self, m: Any) -> tuple[str, str, tuple[str, ...], str, str]:
        pos_id = m.part_of_speech_id()
        part = self._pos.get(pos_id)
        if part is None:
            part = self._pos[pos_id] = tuple(m.part_of_speech())
        kind = part[0]
        return (m.normalized_form(), m.dictionary_form(), part, m.reading_form() if kind == "動詞" else "", kind)

    def verb_types(self, lemma: str) -> tuple[tuple[str, str], ...]:
        """(reading, conjugation type) of the modern verbs spelt `lemma` (見る: 上一段; 帰る: 五段), to tell
        ら抜き (見れる) from a 五段 verb's potential (帰れる)."""
        if lemma not in self._lemma_types:
            self._lemma_types[lemma] = tuple(
                (m.reading_form(), m.part_of_speech()[4]) for m in self._dictionary.lookup(lemma)
                if m.part_of_speech()[0] == "動詞" and not m.part_of_speech()[4].startswith("文語"))
        return self._lemma_types[lemma]

    def same_reading(self, first: str, second: str) -> bool:
        """Whether two spellings can be read alike (断わる and 断る; not 帰れる and 帰る)."""
        return bool(self._word_reading(first) & self._word_reading(second))

    def _word_reading(self, word: str) -> frozenset[str]:
        if word not in self._word_readings:
            self._word_readings[word] = frozenset(m.reading_form() for m in self._dictionary.lookup(word)
                                                  if not m.is_oov() and m.surface() == word)
        return self._word_readings[word]

    def nouns_alone(self, text: str) -> bool:
        """Whether `text`, read on its own, is nothing or dictionary nouns of two characters or more (メール,
        パソコン; not ン, ート or an unknown ザワー): the other parts of a compound are words themselves."""
        if text not in self._nouns_alone:
            self._nouns_alone[text] = all(not t.oov and t.kind == "名詞" and len(t.surface) >= 2
                                          for t in self.tokens(text))
        return self._nouns_alone[text]

    def lemma_reading(self, token: Token) -> str:
        """The reading of a word's dictionary form: 問い合わせる and 問合せる read alike, but 使える (ツカエル)
        is not a spelling of 使う (ツカウ), though Sudachi normalises both to 使う."""
        if token.surface == token.lemma:
            return token.reading
        key = (token.lemma, token.normalized)
        if key not in self._readings:
            self._readings[key] = next((m.reading_form() for m in self._dictionary.lookup(token.lemma)
                                        if m.normalized_form() == token.normalized), "")
        return self._readings[key]


TOKEN_FIELDS = frozenset({"pos", "normalized_form", "dictionary_form", "reading_form"})
"""What the check reads of a word from Sudachi's dictionary (see `Analyzer._tokenizer`)."""

SHORT_TEXT = 16
"""Characters up to which a text's tokens are remembered: headings, table cells and tags recur in every issue."""
SHORT_TEXTS_KEPT = 4_096
"""At most this many (a few megabytes at worst): beyond, short texts are analysed each time, as before."""

MAX_PIECE = 12_000
"""Characters per call: 4 bytes each at most in UTF-8, so always under Sudachi's limit."""


def _piece_end(text: str, start: int) -> int:
    end = start + MAX_PIECE
    if end >= len(text):
        return len(text)
    cut = max(text.rfind("。", start, end), text.rfind("\n", start, end))
    return cut + 1 if cut > start else end
