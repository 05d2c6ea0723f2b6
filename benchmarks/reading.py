"""A reader's first visit on a slow link (see `testsupport.pageload`: Chromium, phone screen, 300 kbit/s,
200 ms) to the newest issue and the home page, each site served as the guide says (compressed copies where the
build wrote them): Dayori against plain MkDocs + Material on the same Markdown; and what a first search downloads."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from benchmarks.common import Options, timed_build
from benchmarks.preview import year_of
from testsupport.corpus import write_projects

RUNS = 3


def bench_slow_link(folder: Path, options: Options) -> dict[str, float]:
    """Medians of RUNS first visits to each page."""
    from testsupport.pageload import CHROMIUM, chromium, measure
    from testsupport.statichost import serve_folder

    if not CHROMIUM.is_file():
        print(f"slow_link: skipped, {CHROMIUM} is missing (apt-get install chromium)")
        return {}
    issues = options.issues
    dayori, plain = write_projects(folder / f"slow-{issues}", issues)
    timed_build(dayori)
    timed_build(plain)
    pages = {"dayori": (dayori / "site", {"issue": f"newsletter/{issues}/", "home": ""}),
             "plain": (plain / "site", {"issue": f"newsletter/{year_of(plain, issues)}/{issues}/", "home": ""})}
    results: dict[str, float] = {}
    with chromium() as browser:
        for site_name, (site, paths) in pages.items():
            with serve_folder(site) as url:
                for page_name, path in paths.items():
                    loads = [measure(browser, url + path) for _ in range(RUNS)]
                    prefix = f"{site_name}_{page_name}_"
                    results[prefix + "first_paint_ms"] = statistics.median(load.first_paint_ms for load in loads)
                    results[prefix + "bytes_before_paint"] = statistics.median(load.bytes_before_paint for load in loads)
                    results[prefix + "bytes_in_15s"] = statistics.median(load.bytes_in_watch for load in loads)
    for page_name in ("issue", "home"):
        results[f"{page_name}_paint_over_plain"] = (results[f"dayori_{page_name}_first_paint_ms"]
                                                    / results[f"plain_{page_name}_first_paint_ms"])
    results.update(first_query_bytes(dayori / "site"), plain_search_index_gzip_bytes=_gzip_size(
        plain / "site" / "search" / "search_index.json"))
    return results


def first_query_bytes(site: Path) -> dict[str, float]:
    """What a reader's first search downloads, compressed (the `.gz` copies the guide's servers send): the
    index's list of shards, the shards a first query waits for, Material's worker with our wrapper, and the
    Japanese segmenter Material's worker imports; and the whole index, all shards."""
    manifest = json.loads((site / "search" / "search_index.json").read_bytes())
    shards = manifest["config"]["dayori_shards"]
    scripts = site / "assets" / "javascripts"
    worker = [*scripts.glob("workers/search.*.min.js"), *scripts.glob("dayori/search-worker.*.js"),
              scripts / "lunr" / "min" / "lunr.stemmer.support.min.js", scripts / "lunr" / "tinyseg.js",
              scripts / "lunr" / "min" / "lunr.ja.min.js"]
    first = [site / "search" / shard["url"] for shard in shards if shard["first"]]
    every = [site / "search" / shard["url"] for shard in shards]
    return {"first_query_bytes": sum(map(_gzip_size, [site / "search" / "search_index.json", *first, *worker])),
            "first_query_index_bytes": sum(map(_gzip_size, first)),
            "whole_index_bytes": sum(map(_gzip_size, every)), "shards": len(shards)}


def _gzip_size(path: Path) -> int:
    """The size a server sends: the build's `.gz` copy, or the file compressed as the build would."""
    copy = path.with_name(path.name + ".gz")
    if copy.is_file():
        return copy.stat().st_size
    import gzip

    return len(gzip.compress(path.read_bytes(), mtime=0))



def show(slow: dict[str, float]) -> None:
    print("slow link (Chromium, 390x844, 300 kbit/s, 200 ms; first visit): first paint, bytes before it, "
          "bytes in the first 15 s")
    for page_name in ("issue", "home"):
        for site_name in ("dayori", "plain"):
            prefix = f"{site_name}_{page_name}_"
            print(f"  {page_name:5} {site_name:6} {slow[prefix + 'first_paint_ms'] / 1000:5.2f} s  "
                  f"{slow[prefix + 'bytes_before_paint'] / 1000:7.1f} KB  {slow[prefix + 'bytes_in_15s'] / 1000:7.1f} KB")
        print(f"  {page_name:5} first paint x{slow[f'{page_name}_paint_over_plain']:.3f} of plain Material")
    print(f"  first search downloads {slow['first_query_bytes'] / 1000:.1f} KB compressed (index "
          f"{slow['first_query_index_bytes'] / 1000:.1f} KB of {slow['whole_index_bytes'] / 1000:.1f} KB in "
          f"{slow['shards']:.0f} shards; plain Material loads its {slow['plain_search_index_gzip_bytes'] / 1000:.1f} KB "
          "index on every page)")


