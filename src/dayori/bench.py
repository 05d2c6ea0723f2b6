"""`make bench`: the whole pipeline against a plain MkDocs build of the same Markdown, in one run.

Numbers are ratios against a baseline measured in the same run (medians of 3), so they mean the same on any
machine. Results are printed and written to `bench-results.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORDS = ("業務", "効率化", "手順", "確認", "共有", "会議", "資料", "申請", "承認", "テレワーク", "チャネル",
         "ショートカット", "仕分けルール", "受信トレイ", "多要素認証", "パスワード", "翻訳", "表計算", "書式",
         "職員", "担当者", "ファイル", "フォルダー", "設定", "画面", "機能", "便利", "簡単", "注意", "安全")
PARTICLES = ("は", "を", "に", "で", "と", "の", "が", "も")
ENDINGS = ("します。", "しましょう。", "できます。", "です。", "ください。", "になります。")


def sentence(rng: random.Random) -> str:
    parts = [rng.choice(WORDS) + rng.choice(PARTICLES) for _ in range(rng.randint(3, 6))]
    return "".join(parts) + rng.choice(WORDS) + rng.choice(ENDINGS)


def issue_markdown(vol: int, date: dt.date, rng: random.Random) -> str:
    """About 1,000 characters with headings, a list and a table, like a real issue."""
    meta = {"vol": vol, "date": date.isoformat(), "title": f"{rng.choice(WORDS)}の{rng.choice(WORDS)}（第{vol}号）",
            "summary": sentence(rng), "tags": rng.sample(WORDS[:12], 2), "authors": ["DXチーム"]}
    sections = []
    for heading in range(3):
        paragraph = "".join(sentence(rng) for _ in range(4))
        items = "\n".join(f"- {sentence(rng)}" for _ in range(3))
        sections.append(f"## {rng.choice(WORDS)}{heading + 1}\n\n{paragraph}\n\n{items}\n")
    table = "| 項目 | 内容 |\n| --- | --- |\n" + "\n".join(f"| {rng.choice(WORDS)} | {sentence(rng)} |" for _ in range(3))
    header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{header}---\n\n" + "\n".join(sections) + "\n" + table + "\n"


def make_corpus(folder: Path, issues: int) -> tuple[Path, Path]:
    """Two projects with identical Markdown: the Dayori one, and a plain MkDocs one without the hooks."""
    rng = random.Random(520)
    dayori, plain = folder / "dayori", folder / "plain"
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for project in (dayori, plain):
        shutil.copytree(ROOT / "docs", project / "docs")
    (dayori / "mkdocs.yml").write_text(config, encoding="utf-8")
    shutil.copytree(ROOT / "hooks", dayori / "hooks")
    (dayori / "videos").mkdir()
    plain_config = re.sub(r"\nhooks:\n(?:  - .*\n)+", "\n", config)
    plain_config = re.sub(r"\n  - (業務合理化便り|DX日記|タグ): .*", "", plain_config)
    (plain / "mkdocs.yml").write_text(plain_config, encoding="utf-8")
    first = dt.date(2016, 12, 2)
    for index in range(issues):
        vol = index + 1
        date = first + dt.timedelta(weeks=index)
        text, files = issue_markdown(vol, date, rng), attachments(vol)
        text += "".join(f"\n{'!' if name.endswith('.png') else ''}[添付{n}](files/{name})\n"
                        for n, name in enumerate(files))
        for folder in (dayori / "newsletter" / str(date.year), plain / "docs" / "newsletter" / str(date.year)):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{vol}.md").write_text(text, encoding="utf-8")
            for name, data in files.items():
                (folder / "files").mkdir(exist_ok=True)
                (folder / "files" / name).write_bytes(data)
    return dayori, plain


def attachments(vol: int) -> dict[str, bytes]:
    """A picture in every other issue and a PDF in every tenth, as real issues have: the files the gate
    vets and the picture step copies."""
    import io

    from PIL import Image

    files: dict[str, bytes] = {}
    if vol % 2 == 0:
        out = io.BytesIO()
        Image.new("RGB", (320, 200), (vol % 256, 90, 160)).save(out, "PNG")
        files[f"figure-{vol}.png"] = out.getvalue()
    if vol % 10 == 0:
        files[f"report-{vol}.pdf"] = b"%PDF-1.4\n% report " + str(vol).encode() + b"\n%%EOF\n"
    return files


@dataclass(frozen=True)
class Run:
    """One build: wall time (what a person waits), user CPU time (the build's own work, without the disk's
    moods, which swing wall time by a fifth here), system time (the kernel creating and deleting the files
    of site/) and peak memory."""

    seconds: float
    user_seconds: float
    system_seconds: float
    peak_kib: int


def timed_build(project: Path, *, cold: bool = False) -> Run:
    """`mkdocs build` as `make site` runs it, in a fresh process. `cold` is the very first build on a machine
    (no engine cache, no `site/`); otherwise it is the next `make site` of the day, with the previous `site/`
    still there: plain MkDocs empties it itself, and Dayori reuses its unchanged files."""
    if cold:
        shutil.rmtree(project / "site", ignore_errors=True)
        shutil.rmtree(project / ".cache", ignore_errors=True)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DAYORI_TODAY": "2026-11-26"}
    command = [sys.executable, "-c", "import resource, sys, runpy; sys.argv=['mkdocs','build','-q'];"
               "\ntry:\n    runpy.run_module('mkdocs', run_name='__main__')\nexcept SystemExit as e:\n    code = e.code"
               "\nelse:\n    code = 0\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
               "\nsys.exit(code)"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"build failed in {project}:\n{result.stderr[-3000:]}")
    return Run(seconds, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime,
               int(result.stderr.strip().splitlines()[-1]))


def interleaved(runs: int, *measures: Callable[[], Run]) -> list[Run]:
    """Medians of builds taken in turn (A B C A B C …), so that a slow spell of the disk or the other core
    falls on every contender alike instead of on whichever ran during it."""
    results: list[list[Run]] = [[] for _ in measures]
    for _ in range(runs):
        for index, measure in enumerate(measures):
            results[index].append(measure())
    return [Run(statistics.median(r.seconds for r in rs), statistics.median(r.user_seconds for r in rs),
                statistics.median(r.system_seconds for r in rs), max(r.peak_kib for r in rs)) for rs in results]


def page_bytes(site: Path, pattern: str) -> float:
    return statistics.mean(p.stat().st_size for p in (site / "newsletter").glob(pattern))


def stage_seconds(project: Path, runs: int, *, cold: bool) -> dict[str, float]:
    """Each stage's time, in-process on the same corpus (no MkDocs rendering involved)."""
    from dayori import lastbuild
    from dayori.build import prepare
    from dayori.config import settings_from_file

    os.environ["DAYORI_TODAY"] = "2026-11-26"
    settings = settings_from_file(project / "mkdocs.yml")
    laps = []
    for _ in range(runs):
        if cold:
            shutil.rmtree(settings.cache_path, ignore_errors=True)
        else:  # each stage's own cache, as after an edit: an unchanged project reuses the whole last build
            (settings.cache_path / lastbuild.FILE).unlink(missing_ok=True)
        laps.append(prepare(settings).seconds)
    return {stage: statistics.median(lap[stage] for lap in laps) for stage in laps[0]}


def check_seconds(project: Path, runs: int) -> dict[str, float]:
    """`python -m dayori check` over the whole corpus in-process: cold (no check cache: Sudachi loads and
    every body is analysed) and warm (every body cached: the dictionary is never loaded); CPU seconds, as the
    build's user CPU, so the ratios do not swing with the disk."""
    from dayori.check import check_files, content_files
    from dayori.check.analyzer import Analyzer
    from dayori.config import settings_from_file

    settings = settings_from_file(project / "mkdocs.yml")
    files = content_files(settings)
    cold, warm, loads = [], [], []
    for _ in range(runs):
        shutil.rmtree(settings.cache_path / "check", ignore_errors=True)
        start = time.process_time()
        report = check_files(settings, files)
        cold.append(time.process_time() - start)
        start = time.process_time()
        again = check_files(settings, files)
        warm.append(time.process_time() - start)
        assert report.dictionary_loaded and not again.dictionary_loaded and again.analysed == 0
        start = time.perf_counter()
        Analyzer().tokens("辞書")
        loads.append(time.perf_counter() - start)
    return {"check_cold_cpu_seconds": statistics.median(cold), "check_warm_cpu_seconds": statistics.median(warm),
            "sudachi_load_seconds": statistics.median(loads)}


def limits_seconds(project: Path, runs: int) -> dict[str, float]:
    """What the limits on editors' files (`dayori.limits`) cost, in CPU seconds over the corpus: what every
    build does (a size from the file system, the tags counted) and what only a body rendered again does (its
    nesting measured before Markdown sees it). Their share of the builds is the slowdown they can cause."""
    from dayori.config import settings_from_file
    from dayori.errors import Problems
    from dayori.frontmatter import parse_document
    from dayori.limits import markdown_too_big, nesting, tag_problems
    from dayori.paths import markdown_files

    settings = settings_from_file(project / "mkdocs.yml")
    files = markdown_files(settings.newsletter_path)
    documents = [parse_document(path, path.read_bytes(), path, Problems()) for path in files]
    every, rendered = [], []
    for _ in range(runs):
        start = time.process_time()
        for path, document in zip(files, documents, strict=True):
            markdown_too_big(path.stat().st_size, settings.limits)
            tag_problems(tuple(document.data.get("tags") or ()) if document else (), settings.limits)
        every.append(time.process_time() - start)
        start = time.process_time()
        for document in documents:
            nesting(document.body if document else "")
        rendered.append(time.process_time() - start)
    return {"limits_every_build_cpu_seconds": statistics.median(every),
            "limits_rendered_bodies_cpu_seconds": statistics.median(rendered)}


def bench_site(folder: Path, issues: int, runs: int) -> dict[str, float]:
    """`make site` as editors run it (cache kept), the first build on a machine (no cache), and plain MkDocs."""
    dayori, plain = make_corpus(folder / f"corpus-{issues}", issues)
    timed_build(dayori)
    timed_build(plain)
    warm_run, plain_run, cold_run = interleaved(
        runs, lambda: timed_build(dayori), lambda: timed_build(plain), lambda: timed_build(dayori, cold=True))
    warm, baseline, cold = warm_run.seconds, plain_run.seconds, cold_run.seconds
    cold_stages = stage_seconds(dayori, runs, cold=True)
    warm_stages = stage_seconds(dayori, runs, cold=False)
    check = check_seconds(dayori, runs)
    limits = limits_seconds(dayori, runs)
    return {**check, **limits,
            "limits_share_of_warm_build": limits["limits_every_build_cpu_seconds"] / warm_run.user_seconds,
            "limits_share_of_cold_build": (limits["limits_every_build_cpu_seconds"]
                                           + limits["limits_rendered_bodies_cpu_seconds"]) / cold_run.user_seconds,
            "check_cold_over_cold_build": check["check_cold_cpu_seconds"] / cold_run.user_seconds,
            "check_warm_over_warm_build": check["check_warm_cpu_seconds"] / warm_run.user_seconds,"issues": issues, "warm_seconds": warm, "cold_seconds": cold, "plain_seconds": baseline,
            "warm_over_plain": warm / baseline, "cold_over_plain": cold / baseline, "warm_over_cold": warm / cold,
            "warm_user_over_plain": warm_run.user_seconds / plain_run.user_seconds,
            "cold_user_over_plain": cold_run.user_seconds / plain_run.user_seconds,
            "warm_system_seconds": warm_run.system_seconds, "plain_system_seconds": plain_run.system_seconds,
            "feeds_share_of_build": cold_stages["feeds"] / cold,
            "gate_share_of_warm_build": warm_stages["gate"] / warm,
            "gate_share_of_cold_build": cold_stages["gate"] / cold,
            "email_ms_per_issue_cold": 1000 * cold_stages["email"] / issues,
            "email_ms_per_issue_warm": 1000 * warm_stages["email"] / issues,
            **{f"cold_stage_{name}_seconds": value for name, value in cold_stages.items()},
            **{f"warm_stage_{name}_seconds": value for name, value in warm_stages.items()},
            "bytes_per_issue_page": page_bytes(dayori / "site", "*/index.html"),
            "plain_bytes_per_page": page_bytes(plain / "site", "*/*/index.html"),
            "peak_memory_mib": max(warm_run.peak_kib, cold_run.peak_kib) / 1024,
            "plain_peak_memory_mib": plain_run.peak_kib / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dayori.bench")
    parser.add_argument("--issues", type=int, default=520)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--only", choices=sorted(_extra_benchmarks()), help="run this measurement alone and print it")
    args = parser.parse_args(argv)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="dayori-bench-") as tmp:
        folder = Path(tmp)
        if args.only:
            measured = _extra_benchmarks()[args.only](folder, args.issues)
            if args.only == "proofreading":
                _print_proofreading(measured)
            else:
                print(json.dumps(measured, indent=2))
            if args.only == "slow_link" and measured:
                print_slow_link(measured)
            return 0
        small = bench_site(folder, max(1, args.issues // 10), 1)
        large = bench_site(folder, args.issues, args.runs)
        results["site"] = large
        results["page_bytes_growth"] = large["bytes_per_issue_page"] / small["bytes_per_issue_page"]
        results["small_corpus_issues"] = small["issues"]
        for name, measure in _extra_benchmarks().items():
            results[name] = measure(folder, args.issues)
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _print(results)
    return 0


def bench_sending(folder: Path, issues: int, count: int = 300) -> dict[str, float]:
    """Sends per second through the ledger to a local SMTP server, against plain smtplib sending the same
    bytes over one connection (the floor any sender has)."""
    import smtplib

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    from dayori.delivery.bench import sample_send
    from dayori.delivery.ledger import Ledger
    from dayori.delivery.send import SendOptions, deliver, personalize
    from dayori.delivery.smtp import SmtpConfig, Transport
    from dayori.email import message_id

    settings, message, recipients = sample_send(folder, count)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = SmtpConfig.from_env({"DAYORI_SMTP_HOST": "127.0.0.1", "DAYORI_SMTP_PORT": str(controller.port),
                                      "DAYORI_SMTP_SECURITY": "none"})
        with Ledger.open(folder / "bench-ledger.sqlite3") as ledger:
            ledger.freeze(1, [(r, message_id(1, settings, r.address)) for r in recipients])
            start = time.perf_counter()
            deliver(message, 1, ledger, Transport(config), "dx@example.go.jp", SendOptions(rate=0, progress=False, progress_stream=io.StringIO()))
            ledgered = time.perf_counter() - start
        data = personalize(message, recipients[0], message_id(1, settings))
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", controller.port) as client:
            for recipient in recipients:
                client.sendmail("dx@example.go.jp", [recipient.address], data)
        plain = time.perf_counter() - start
    finally:
        controller.stop()
    return {"messages": count, "sends_per_second": count / ledgered, "smtplib_sends_per_second": count / plain,
            "ledger_over_smtplib": ledgered / plain}


def bench_sending_oauth(folder: Path, issues: int) -> dict[str, float]:
    from dayori.delivery.bench import bench_oauth_sending

    return bench_oauth_sending(folder / "oauth")


def bench_sending_profile(folder: Path, issues: int) -> dict[str, float]:
    from dayori.delivery.bench import bench_profile_pace

    return bench_profile_pace(folder / "profile")


def bench_media_stage(folder: Path, issues: int) -> dict[str, float]:
    from dayori.media.bench import bench_media

    return bench_media(folder / "media")


def bench_edit_to_served(folder: Path, issues: int, edits: int = 5) -> dict[str, float]:
    """What an editor waits in `make serve`: from saving one issue to the server answering with the changed
    page (watcher delay included), for Dayori and for plain MkDocs serving the same Markdown."""
    dayori, plain = make_corpus(folder / f"serve-{issues}", issues)
    vol = max(1, issues // 2)
    dayori_seconds = _edits_served(dayori, vol, f"newsletter/{vol}/", edits, ["-m", "dayori.material.serve", "--port", "{port}"])
    plain_seconds = _edits_served(plain, vol, f"newsletter/{_year_of(plain, vol)}/{vol}/", edits,
                                  ["-m", "mkdocs", "serve", "-a", "127.0.0.1:{port}"])
    return {"dayori_edit_to_served_seconds": dayori_seconds, "plain_edit_to_served_seconds": plain_seconds,
            "edit_to_served_over_plain": dayori_seconds / plain_seconds}


def bench_slow_link(folder: Path, issues: int, runs: int = 3) -> dict[str, float]:
    """A reader's first visit on a slow link (see `dayori.pageload`: Chromium, phone screen, 300 kbit/s,
    200 ms) to the newest issue and the home page, each site served as the guide says (compressed copies
    where the build wrote them): Dayori against plain MkDocs + Material on the same Markdown. Medians."""
    from dayori.pageload import CHROMIUM, chromium, measure
    from dayori.statichost import serve_folder

    if not CHROMIUM.is_file():
        print(f"slow_link: skipped, {CHROMIUM} is missing (apt-get install chromium)")
        return {}
    dayori, plain = make_corpus(folder / f"slow-{issues}", issues)
    timed_build(dayori)
    timed_build(plain)
    pages = {"dayori": (dayori / "site", {"issue": f"newsletter/{issues}/", "home": ""}),
             "plain": (plain / "site", {"issue": f"newsletter/{_year_of(plain, issues)}/{issues}/", "home": ""})}
    results: dict[str, float] = {}
    with chromium() as browser:
        for site_name, (site, paths) in pages.items():
            with serve_folder(site) as url:
                for page_name, path in paths.items():
                    loads = [measure(browser, url + path) for _ in range(runs)]
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


def _year_of(project: Path, vol: int) -> str:
    return next((project / "docs" / "newsletter").glob(f"*/{vol}.md")).parent.name


def _edits_served(project: Path, vol: int, url_path: str, edits: int, command: list[str]) -> float:
    """`command` names the port `{port}`: Dayori runs as `make serve` does, plain MkDocs as `mkdocs serve`."""
    import urllib.request

    source = next(project.glob(f"**/newsletter/*/{vol}.md"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DAYORI_TODAY": "2026-11-26"}
    server = subprocess.Popen([sys.executable, *(part.format(port=port) for part in command), "-q"],
                              cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/dayori/{url_path}"

    def page() -> str:
        try:
            with urllib.request.urlopen(url, timeout=300) as response:
                return str(response.read().decode("utf-8"))
        except OSError:
            return ""

    try:
        deadline = time.monotonic() + 600
        while not page():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mkdocs serve did not start in {project}")
            time.sleep(0.2)
        original = source.read_text(encoding="utf-8")
        waits = []
        for edit in range(edits):
            marker = f"編集の目印{edit}番"
            source.write_text(original + f"\n{marker}です。\n", encoding="utf-8")
            start = time.perf_counter()
            while marker not in page():
                time.sleep(0.02)
            waits.append(time.perf_counter() - start)
            time.sleep(1.0)
        return statistics.median(waits)
    finally:
        server.terminate()
        server.wait(timeout=60)


def bench_proofreading(folder: Path, issues: int) -> dict[str, Any]:
    """The labelled corpus (tests/proofreading_corpus.yml): recall per category, precision and false alarms,
    for the developed part and, apart, the held-out part written before the rules; and the check's time on
    `issues` generated issues, cold (Sudachi loads, every body analysed) and warm (every body cached)."""
    from dayori.check.measure import load_corpus, score

    corpus = ROOT / "tests" / "proofreading_corpus.yml"
    result: dict[str, Any] = {}
    if corpus.is_file():
        for name, part in zip(("developed", "held_out", "fresh_held_out"), score(load_corpus(corpus)), strict=True):
            result[name] = {"sentences": part.sentences, "correct": part.correct, "recall": part.recall,
                            "precision": part.precision, "false_alarm_rate": part.false_alarm_rate,
                            "recall_by_rule": {rule: part.recall_of(rule) for rule in sorted(part.rules)},
                            "table": part.table(name.replace("_", " "))}
    project, _ = make_corpus(folder / f"proofreading-{issues}", issues)
    result["check_seconds"] = {**check_seconds(project, 3), **check_wall_seconds(project)}
    return result


def check_wall_seconds(project: Path) -> dict[str, float]:
    """`python -m dayori check` as an editor runs it: a new process, cold (no cache) then warm; wall time."""
    env = {**os.environ, "DAYORI_TODAY": "2026-11-26"}
    seconds = {}
    shutil.rmtree(project / ".cache" / "dayori" / "check", ignore_errors=True)
    for kind in ("cold", "warm"):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dayori", "check"], cwd=project, env=env, capture_output=True, check=False)
        seconds[f"check_{kind}_wall_seconds"] = time.perf_counter() - start
    return seconds


def _extra_benchmarks() -> dict[str, Callable[[Path, int], dict[str, Any]]]:
    """Delivery to a local SMTP server, media on generated clips, the edit-to-served wait of the preview, and
    the proofreading check's accuracy on its labelled corpus, and a first visit on a slow link."""
    return {"sending": bench_sending, "sending_oauth": bench_sending_oauth, "sending_profile": bench_sending_profile,
            "media": bench_media_stage, "preview": bench_edit_to_served, "proofreading": bench_proofreading,
            "slow_link": bench_slow_link}


def _print_proofreading(values: dict[str, Any]) -> None:
    print("proofreading (校正) on tests/proofreading_corpus.yml; targets: recall >= 0.90 overall and >= 0.80 per "
          "category, false alarms <= 2 % of correct sentences")
    for part in ("developed", "held_out", "fresh_held_out"):
        if part in values:
            print(values[part]["table"])
    timing = values["check_seconds"]
    print(f"  check of the generated issues: cold {timing['check_cold_cpu_seconds']:.2f} s CPU "
          f"({timing['check_cold_wall_seconds']:.2f} s wall, new process; target <= 3 s), warm "
          f"{timing['check_warm_cpu_seconds']:.3f} s CPU ({timing['check_warm_wall_seconds']:.2f} s wall)")


def _print(results: dict[str, object]) -> None:
    site = results["site"]
    assert isinstance(site, dict)
    print(f"corpus: {site['issues']} issues, medians of runs; site + feeds + email vs plain MkDocs (no hooks)")
    print(f"  plain mkdocs          {site['plain_seconds']:.2f} s")
    print(f"  make site, warm cache {site['warm_seconds']:.2f} s   x{site['warm_over_plain']:.3f} of plain "
          f"(user CPU x{site['warm_user_over_plain']:.3f}; target <= 1.10)")
    print(f"  make site, cold cache {site['cold_seconds']:.2f} s   x{site['cold_over_plain']:.3f} of plain "
          f"(user CPU x{site['cold_user_over_plain']:.3f}); warm/cold {site['warm_over_cold']:.3f}")
    print(f"  kernel time (files)   {site['warm_system_seconds']:.2f} s warm vs {site['plain_system_seconds']:.2f} s plain")
    print(f"  bytes / issue page    {site['bytes_per_issue_page']:.0f} (plain {site['plain_bytes_per_page']:.0f}); "
          f"x{results['page_bytes_growth']:.3f} from {results['small_corpus_issues']} to {site['issues']} issues")
    print(f"  peak memory           {site['peak_memory_mib']:.0f} MiB (plain {site['plain_peak_memory_mib']:.0f} MiB)")
    print(f"  feeds                 {100 * site['feeds_share_of_build']:.1f} % of the cold build")
    print(f"  gate (every published file vetted) {100 * site['gate_share_of_warm_build']:.2f} % of the warm build "
          f"(target < 3 %), {100 * site['gate_share_of_cold_build']:.2f} % of the cold build")
    print(f"  email                 {site['email_ms_per_issue_cold']:.2f} ms per issue cold (render + inline + .eml), "
          f"{site['email_ms_per_issue_warm']:.2f} ms warm")
    print(f"  check (校正)          cold {site['check_cold_cpu_seconds']:.2f} s CPU = "
          f"{100 * site['check_cold_over_cold_build']:.1f} % of the cold build; warm {site['check_warm_cpu_seconds']:.3f} s"
          f" = {100 * site['check_warm_over_warm_build']:.1f} % of the warm build (target <= 5 %); Sudachi loads in "
          f"{site['sudachi_load_seconds']:.2f} s, only when a body is not cached")
    print(f"  limits (files)        {1000 * site['limits_every_build_cpu_seconds']:.1f} ms CPU every build = "
          f"{100 * site['limits_share_of_warm_build']:.2f} % of the warm build; with every body's nesting "
          f"{100 * site['limits_share_of_cold_build']:.2f} % of the cold build")
    for kind in ("cold", "warm"):
        prefix = f"{kind}_stage_"
        print(f"  {kind} stages (s)      " + ", ".join(f"{k[len(prefix):-8]} {v:.3f}" for k, v in site.items()
                                                     if k.startswith(prefix)))
    pace = results.get("sending_profile")
    if isinstance(pace, dict) and pace:
        print(f"  send pace (exchange-online) {pace['sent_per_minute']:.1f} messages/min = "
              f"{100 * pace['rate_over_limit']:.0f} % of the profile's {pace['profile_limit_per_minute']:.0f}/min "
              f"({pace['quota_refusals']:.0f} quota refusals); ledger {pace['ledger_ms_per_message']:.2f} ms per message")
    slow = results.get("slow_link")
    if isinstance(slow, dict) and slow:
        print_slow_link(slow)
    for name, values in results.items():
        if name == "proofreading" and isinstance(values, dict):
            _print_proofreading(values)
        elif isinstance(values, dict) and name not in ("site", "slow_link"):
            print(f"{name}: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                         for k, v in values.items()))


def print_slow_link(slow: dict[str, float]) -> None:
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


if __name__ == "__main__":
    sys.exit(main())
