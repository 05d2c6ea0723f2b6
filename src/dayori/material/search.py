"""Japanese site search on top of Material for MkDocs' client-side search.

Material's search (lunr) matches whole index terms, and for Japanese it cuts the text into words with
TinySegmenter. A compound typed without spaces is not cut the same way as the page text, so 手ぶれ補正 found
nothing on pages that contain it. Instead of guessing word boundaries, every Japanese run of text is indexed as
overlapping two-character pieces (bigrams) and every Japanese query word is turned into the same pieces, all
required: any Japanese substring of two or more characters then matches, whatever the words around it.

The pieces go into hidden fields next to Material's readable ones (`ja_title` beside `title`, ...), so result
titles and previews stay normal text. They are written in ASCII (`jx`, four base-36 digits per character, `0`)
because Material would cut any Japanese index term again with TinySegmenter, and any kanji in a query with its
own segmenter; the closing digit keeps lunr's English stemmer, which Material leaves on queries, from cutting
an `s` or `ed` off a term. `assets/search-worker.js` beside this module (a wrapper around Material's worker) does the
query side and must encode exactly as `encode` below; `search.js` makes Material start that wrapper.

Readers on slow links pay for search only when they use it: `search.js` holds back Material's request for the
index until the reader turns to the search box, and the index itself is split (`split_index`): the file Material
asks for keeps only the configuration and a list of shards, one per year of dated pages and one for the rest, so
that a new issue changes one shard and the others stay cached. The first query waits only for the shards within
`FIRST_QUERY_BYTES` (the newest); the worker then loads the others and answers the query again.
"""

from __future__ import annotations

import hashlib
import html
import json
import operator
import re
import unicodedata
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from dayori.compress import gzip_copy
from dayori.model import Output

PREFIX = "jx"
END = "0"
FIELD_PREFIX = "ja_"
INDEXED_FIELDS = ("title", "text", "tags")
SCRIPT = "assets/javascripts/dayori/search.js"
WORKER = "assets/javascripts/dayori/search-worker.js"
INDEX = "search/search_index.json"
SHARDS_KEY = "dayori_shards"
FIRST_QUERY_BYTES = 75_000
"""Compressed bytes of index a first query waits for, at most (unless the newest shard alone is larger):
with Material's worker and its Japanese segmenter (about 25 KB) a first query stays near 100 KB."""
UNDATED = "pages"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# Kana, kanji and the iteration/closing marks; the same ranges as JAPANESE in search-worker.js.
_JAPANESE = re.compile(
    "[\u3005-\u3007\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_TAGS = re.compile(r"<[^>]*>")


def encode(characters: str) -> str:
    """Four base-36 digits cover every code point; being fixed, a query for one character can be a prefix."""
    return PREFIX + "".join(_base36(ord(character)).rjust(4, "0") for character in characters) + END


def japanese_runs(text: str) -> list[str]:
    """NFKC first, so half-width katakana and full-width letters match whatever width the reader types."""
    return _JAPANESE.findall(unicodedata.normalize("NFKC", text))


def index_terms(text: str) -> list[str]:
    """Each run's bigrams plus its last character alone, so a one-character query (a prefix) finds every
    position. Each term once: the browser builds its index from this file, on phones and slow links too,
    and a section's repeats would only make it larger.

    The runs are joined, each closed by a mark that no run holds, and every pair of neighbours is taken in
    order (in C, not a Python step per bigram: a site has half a million) and looked up in `_TERMS` (in C too):
    a run's bigrams, then its last character with the mark (its one-character term), then the mark with the
    next run's first (no term)."""
    runs = _RUN_END.join([*japanese_runs(text), ""])
    terms = dict.fromkeys(map(_TERMS.__getitem__, map(operator.add, runs, runs[1:])))
    terms.pop("", None)
    return list(terms)


_RUN_END = "\x00"
_TERMS_KEPT = 1 << 16


class _Terms(dict[str, str]):
    """Each pair's term, made once: a site repeats the same few thousand bigrams, and a dictionary's own
    lookup costs less than half a cached function's call. Emptied when full (`make serve` runs for days)."""

    def __missing__(self, pair: str) -> str:
        if len(self) >= _TERMS_KEPT:
            self.clear()
        term = self[pair] = "" if pair[0] == _RUN_END else encode(pair[0] if pair[1] == _RUN_END else pair)
        return term


_TERMS = _Terms()


def rewrite_index(index: Mapping[str, Any], known: dict[str, dict[str, str]] | None = None,
                  used: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """Material's `search/search_index.json` with the bigram fields added; its own fields are untouched.
    `known` keeps each entry's terms for the next call (`make serve` rewrites the same pages again and again,
    a build those of the last build: making them is a tenth of a build); `used` gets those of this index."""
    config = dict(index.get("config", {}))
    fields = dict(config.get("fields", {}))
    names = [name for name in INDEXED_FIELDS if name in fields]
    for name in names:
        fields[FIELD_PREFIX + name] = dict(fields[name])
    config["fields"] = fields
    known = {} if known is None else known
    used = {} if used is None else used
    return {**index, "config": config,
            "docs": [_with_terms(doc, names, known, used) for doc in index.get("docs", [])]}


def split_index(index: Mapping[str, Any], dates: Mapping[str, str], write: Callable[[str, bytes, bytes], None]
                ) -> dict[str, Any]:
    """The file Material asks for (its configuration, no documents, the list of shards); each shard goes to
    `write` with its path in the site and its gzip copy (its size is listed: the site's copy, made once) as
    soon as it is made (together they are megabytes, held at the end of a build, when its memory peaks).
    `dates` gives pages' ISO dates by URL (`newsletter/12/`); a page without one goes to the first shard, then
    years newest first. Names carry a hash of the content, so a server may
    let browsers keep them for good."""
    groups: dict[str, list[Any]] = {}
    for doc in index.get("docs", []):
        date = dates.get(str(doc.get("location", "")).split("#", 1)[0], "")
        groups.setdefault(date[:4] if date else UNDATED, []).append(doc)
    listing: list[dict[str, Any]] = []
    waited = 0
    for key in sorted(groups, key=lambda key: (key != UNDATED, _descending(key))):
        data = json.dumps(groups[key], ensure_ascii=False, separators=(",", ":"), default=str).encode()
        name = f"shard-{key}.{hashlib.sha256(data).hexdigest()[:12]}.json"
        gzipped = gzip_copy(data)
        size = len(gzipped)
        first = not listing or (listing[-1]["first"] and waited + size <= FIRST_QUERY_BYTES)
        waited += size if first else 0
        write(f"{Path(INDEX).parent.as_posix()}/{name}", data, gzipped)
        listing.append({"url": name, "bytes": size, "first": first})
    config = {**index.get("config", {}), SHARDS_KEY: listing}
    return {**index, "config": config, "docs": []}


def whole_index(read: Callable[[str], bytes]) -> dict[str, Any]:
    """The index as one value again, from a site's files (`read` takes a path in the site): for checks of
    what search can find."""
    manifest = json.loads(read(INDEX))
    folder = Path(INDEX).parent.as_posix()
    docs = list(manifest.get("docs", []))
    for shard in manifest.get("config", {}).get(SHARDS_KEY, []):
        docs.extend(json.loads(read(f"{folder}/{shard['url']}")))
    return {**manifest, "docs": docs}


def _descending(key: str) -> str:
    """Years as text, newest first."""
    return "".join(chr(0x10FFFF - ord(character)) for character in key)


def search_outputs() -> list[Output]:
    """The two scripts the site serves (the adapter publishes them under names with a hash of their
    content); the theme must load SCRIPT before Material's own bundle and tell it WORKER's name."""
    return [Output(dest, source=_asset(Path(dest).name)) for dest in (SCRIPT, WORKER)]


TERMS_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
"""What an entry's terms also depend on: the code that makes them (this file)."""


def _with_terms(doc: Mapping[str, Any], names: list[str], known: dict[str, dict[str, str]],
                used: dict[str, dict[str, str]]) -> dict[str, Any]:
    key = hashlib.blake2b(json.dumps([names, *(doc.get(name) for name in names)], ensure_ascii=False,
                                     default=str).encode(), digest_size=16).hexdigest()
    terms = known.get(key)
    if terms is None:
        terms = known[key] = _terms(doc, names)
    used[key] = terms
    return {**doc, **terms}


def _terms(doc: Mapping[str, Any], names: list[str]) -> dict[str, str]:
    extra = {}
    for name in names:
        value = doc.get(name)
        if isinstance(value, list):
            value = " ".join(str(item) for item in value)
        if isinstance(value, str):
            terms = index_terms(html.unescape(_TAGS.sub(" ", value)))
            if terms:
                extra[FIELD_PREFIX + name] = " ".join(terms)
    return extra


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, remainder = divmod(number, 36)
        digits = _DIGITS[remainder] + digits
        if number == 0:
            return digits


def _asset(name: str) -> Path:
    return Path(str(resources.files("dayori.material") / "assets" / name))
