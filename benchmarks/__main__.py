"""`python -m benchmarks [--only SECTION] [--issues N] [--pairs N] [--cold-pairs N]`: every section, or one.

Each section prints its numbers; all of them are also written to `bench-results.json`. Linux and macOS only
(memory and CPU are read from the kernel's account of each build process)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import build, delivery, media, preview, proofreading, reading, stages
from benchmarks.common import Options


@dataclass(frozen=True)
class Section:
    measure: Callable[[Path, Options], dict[str, Any]]
    show: Callable[[dict[str, Any]], None]


def show_values(name: str) -> Callable[[dict[str, Any]], None]:
    def show(values: dict[str, Any]) -> None:
        print(f"{name}: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                     for k, v in values.items()))

    return show


SECTIONS: dict[str, Section] = {
    "build": Section(build.bench_build, build.show),
    "stages": Section(stages.bench_stages, stages.show),
    "sending": Section(lambda folder, _: delivery.bench_sending(folder / "sending"), show_values("sending")),
    "sending_oauth": Section(lambda folder, _: delivery.bench_oauth_sending(folder / "oauth"),
                             show_values("sending_oauth")),
    "sending_profile": Section(lambda folder, _: delivery.bench_profile_pace(folder / "profile"),
                               show_values("sending_profile")),
    "media": Section(lambda folder, _: media.bench_media(folder / "media"), show_values("media")),
    "preview": Section(preview.bench_edit_to_served, show_values("preview")),
    "proofreading": Section(proofreading.bench_proofreading, proofreading.show),
    "slow_link": Section(reading.bench_slow_link, reading.show),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SECTIONS), help="run this section alone")
    parser.add_argument("--issues", type=int, default=Options.issues, help="issues in the synthetic archive")
    parser.add_argument("--pairs", type=int, default=Options.pairs, help="warm A/B pairs of the build section")
    parser.add_argument("--cold-pairs", type=int, default=Options.cold_pairs, help="cold A/B pairs")
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args(argv)
    options = Options(issues=args.issues, pairs=args.pairs, cold_pairs=args.cold_pairs)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="dayori-bench-") as tmp:
        for name in [args.only] if args.only else SECTIONS:
            section = SECTIONS[name]
            (Path(tmp) / name).mkdir()
            results[name] = section.measure(Path(tmp) / name, options)
            if results[name]:
                section.show(results[name])
            sys.stdout.flush()
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
