"""One build: files → model → stages. Everything is computed in memory first; only then does the site
builder write, so a build that fails leaves nothing half-done to publish."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from dayori import lastbuild, sidework
from dayori.config import Settings
from dayori.errors import ContentError, Problem
from dayori.gate import HandWritten, Publication
from dayori.memo import Memo
from dayori.model import Content, Episode, Issue, Output
from dayori.render import ASSET_FOLDER

if TYPE_CHECKING:
    from dayori.attachments import Request, Variants
    from dayori.check.result import CheckResult
    from dayori.content import Unrendered
    from dayori.gate import Passage
    from dayori.pages import Site

STYLESHEET = "assets/dayori.css"


@dataclass(frozen=True)
class Build:
    content: Content
    site: Site
    outputs: tuple[Output, ...]
    warnings: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    ffmpeg_runs: int = 0
    probes: int = 0
    picture_encodes: int = 0
    """Phone-sized and WebP copies of pictures encoded by this build (none when all were in the cache)."""
    check: CheckResult = field(default_factory=lambda: _no_check())
    publications: dict[str, Publication] = field(default_factory=dict)
    """How to publish each hand-written file (docs/, theme overrides), by its site path."""
    late: Late | None = None
    """Work still under way in other processes when `prepare(wait=False)` returned (a site build's check, its
    emails, a first build's copies of pictures): `finish` waits for it. None in a finished build."""


@dataclass
class Late:
    """What a site build's other processes are still making (see `dayori.sidework`), and what their results
    are checked against when they arrive: the problems found meanwhile were none, or `prepare` would have
    waited for these and reported everything together."""

    check: sidework.SideWork
    mailing: sidework.SideWork
    docs: Sequence[HandWritten]
    made_from: lastbuild.Snapshot | None
    settings: Settings
    pictures: sidework.SideWork | None = None
    """The pictures' copies a first build encodes in another process, published with the emails: `pictured`."""
    pictured: tuple[Output, ...] = ()

    def close(self) -> None:
        for work in (self.check, self.mailing, self.pictures):
            if work is not None:
                work.close()


def prepare(settings: Settings, *, preview: bool = False, docs: Sequence[HandWritten] = (),
            memo: Memo | None = None, wait: bool = True, model: bool = True) -> Build:
    """Runs every stage; raises ContentError listing every problem before anything is written.

    `docs` are the files the builder publishes itself (docs/ pages and files, theme overrides), each with the
    site path it will occupy (`newsletter/12/index.html`): they pass the same gate as the editors' files, a
    page's Markdown the same checks as a body, and a collision with a generated page is reported here, not
    halfway through writing. `Build.publications` tells the builder how to publish each of them. In preview
    (`mkdocs serve`) a clip that cannot be transcoded shows its error on its page, and a `memo` kept between
    rebuilds makes each stage redo only what an edit changed.

    With `wait=False` a site build may return while its proofreading and emails are still being made in
    other processes (`Build.late`): the builder renders its pages meanwhile, into a folder nobody reads yet,
    and calls `finish` before it publishes anything; the check's errors then stop the build as before.
    With `model=False` an unchanged project's build may come without its issues and episodes (see
    `lastbuild.recall`): for a builder, which reads only the pages and the outputs.
    """
    made_from = lastbuild.snapshot(settings, docs) if memo is None and not preview else None
    if made_from is not None and (kept := lastbuild.recall(settings, made_from, model=model)) is not None:
        return kept
    try:
        build = _run_stages(settings, preview, docs, memo, made_from)
    except BaseException:
        if memo is not None:
            memo.finish(complete=False)
        raise
    if memo is not None:
        memo.finish(complete=True)
    if build.late is not None and not wait:
        return build
    return finish(build)


def finish(build: Build) -> Build:
    """The whole build: `build` with the results of its other processes, which it waits for; raises
    ContentError when they found problems (nothing is published then). A finished build is returned as it is."""
    late = build.late
    if late is None:
        return build
    seconds = dict(build.seconds)
    started = time.perf_counter()
    try:
        check, emails = late.check.answer(), late.mailing.answer()
        if late.pictures is not None:
            late.pictures.answer()
    finally:
        late.close()
    seconds["check"] = time.perf_counter() - started
    outputs = [*build.outputs, *late.pictured, *emails.outputs]
    problems = [*emails.problems, *check.problems, *_collisions(None, emails.outputs, late.docs)]
    if problems:
        raise ContentError(problems)
    done = replace(build, outputs=_unique(outputs), warnings=(*build.warnings, *emails.warnings, *check.warnings),
                   seconds=seconds, check=check, late=None)
    if late.made_from is not None:
        lastbuild.keep(late.settings, late.made_from, done)
    return done


def late_outputs(unfinished: Build, finished: Build) -> tuple[Output, ...]:
    """What `finish` added: the builder publishes these itself, after rendering the pages."""
    early = {output.dest for output in unfinished.outputs}
    return tuple(output for output in finished.outputs if output.dest not in early)


def _run_stages(settings: Settings, preview: bool, docs: Sequence[HandWritten], memo: Memo | None,
                made_from: lastbuild.Snapshot | None) -> Build:
    # The stages are imported when a build runs them: the next build of an unchanged project needs none.
    from dayori.attachments import picture_variants, publish_copies
    from dayori.content import load_content
    from dayori.feeds import build_feeds
    from dayori.gate import Gate, vet_content, vet_handwritten
    from dayori.media import process_episodes
    from dayori.pages import build_pages

    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = now - clock
        clock = now

    gate = Gate.of(settings, memo)
    site_build = memo is None and not preview
    # A site build proofreads and makes the emails in other processes meanwhile (see `dayori.sidework`); the
    # check's starts first, to load its dictionary while this one reads the content.
    side = sidework.begin("check", settings) if site_build else None
    mailing: sidework.SideWork | None = None
    pictures: sidework.SideWork | None = None
    try:
        content = load_content(settings, preview=preview, memo=memo, gate=gate,
                               helper=functools.partial(_render_helper, settings) if site_build else None)
        lap("content")
        if side is not None:
            side.give([group.label for group in content.tags()], [item.source for item in _items(content)])
        passage = vet_handwritten(docs, gate, vet_content(content, settings, gate))
        gate.save()
        lap("gate")
        seconds["gate"] = gate.seconds  # its share of reading the content too (issue files are vetted there)
        copies = publish_copies(_copy_requests(content, docs, passage, settings), settings.cache_path)
        publications, page_problems = _publications(docs, passage, copies.files, settings, memo)
        lap("files")
        if side is None:
            from dayori.check.stage import check_content

            check = check_content(content, settings, memo)
            lap("check")
        episodes = content.episodes if preview else tuple(e for e in content.episodes
                                                          if e.slug not in passage.refused_episodes)
        media = process_episodes(episodes, settings, keep_going=preview)
        lap("media")
        if side is not None:
            mailing = sidework.start("emails", settings, content, media.media, copies.files)
        feeds = build_feeds(content, settings, media.media, memo=memo)
        lap("feeds")
        if mailing is None:
            from dayori.email import build_emails

            emails = build_emails(content, settings, media.media, memo, pictures=copies.files)
            lap("email")
        assets, changed = _asset_outputs(content, passage, copies.files)
        # A site build's missing copies of pictures are encoded by another process too (see `Late.pictures`).
        variants = picture_variants(((a.dest, a.source) for a in assets if a.source is not None),
                                    settings.cache_path, ASSET_FOLDER, encode=side is None)
        if variants.missing:
            pictures = sidework.start("pictures", settings, variants.missing)
        lap("pictures")
        if side is not None:
            side.answer()  # the tags' readings are in the cache now
        site = build_pages(content, settings, media.media, {} if side is not None else check.findings, memo,
                           variants.sizes)
        lap("pages")
        outputs = [*assets, *_variant_outputs(variants), _stylesheet(), *feeds,
                   *(output for clip in media.media.values() for output in clip.outputs())]
        problems = [*passage.problems, *copies.problems, *page_problems, *changed,
                    *([] if preview else media.problems), *_collisions(site, outputs, docs)]
        if side is not None and mailing is not None:
            if not problems:  # the rest is checked when it arrives (see `finish`)
                encoding = {final for _, wanted in variants.missing for final, _, _ in wanted}
                late = Late(side, mailing, docs, made_from, settings, pictures,
                            tuple(output for output in outputs if output.source in encoding))
                side = mailing = pictures = None
                return Build(content, site, _unique([output for output in outputs if output.source not in encoding]),
                             (*content.warnings, *media.warnings), seconds,
                             media.ffmpeg_runs, media.probes, variants.encoded, publications=publications,
                             late=late)
            check, emails = side.answer(), mailing.answer()
            lap("check")
    finally:
        for work in (side, mailing, pictures):
            if work is not None:
                work.close()
    outputs += emails.outputs
    problems += [*emails.problems, *check.problems, *_collisions(None, emails.outputs, docs)]
    if problems:
        raise ContentError(problems)
    return Build(content, site, _unique(outputs), (*content.warnings, *media.warnings, *emails.warnings,
                                                 *check.warnings), seconds, media.ffmpeg_runs, media.probes, variants.encoded,
                 check, publications)


def _render_helper(settings: Settings, bodies: list[Unrendered],
                   pages: dict[Path, str]) -> Callable[[], dict[str, bytes]]:
    """Another process rendering a share of the bodies (see `dayori.content.prerender`); waiting for it gives
    the render cache's records it made, through its answer (none if it failed: this process renders them)."""
    helper = sidework.start("bodies", settings, bodies, pages)

    def wait() -> dict[str, bytes]:
        try:
            made = helper.answer()
        except Exception:
            return {}
        finally:
            helper.close()
        return made if isinstance(made, dict) else {}
    return wait


def _no_check() -> CheckResult:
    from dayori.check.result import CheckResult

    return CheckResult()


def _copy_requests(content: Content, docs: Sequence[HandWritten], passage: Passage,
                   settings: Settings) -> list[Request]:
    """Every vetted file the build publishes: the bodies' files, and docs/ pictures (their metadata goes)."""
    from dayori.attachments import Request
    from dayori.gate import body_line
    from dayori.pictures import PICTURE_SUFFIXES

    requests = [Request(passage.assets[asset.source], item.source, asset.source.name,
                        functools.partial(body_line, item, settings, asset.line))
                for item in _items(content) for asset in item.body.assets
                if asset.source in passage.assets]
    requests += [Request(passage.handwritten[file.dest], file.shown, file.shown.name) for file in docs
                 if file.dest in passage.handwritten and file.source.suffix.lower() in PICTURE_SUFFIXES]
    return requests


def _publications(docs: Sequence[HandWritten], passage: Passage, copies: Mapping[Path, Path], settings: Settings,
                  memo: Memo | None) -> tuple[dict[str, Publication], list[Problem]]:
    """How the builder publishes each hand-written file; a page's Markdown is read here, once, and checked
    like a body (see `dayori.docs`)."""
    from dayori.docs import page_problems
    from dayori.gate import Refused, read_vetted

    publications: dict[str, Publication] = {}
    problems: list[Problem] = []
    for file in docs:
        vetted = passage.handwritten.get(file.dest)
        if vetted is None:
            continue
        if file.page:
            try:
                text = read_vetted(vetted).decode("utf-8-sig")
            except Refused as refusal:
                problems.append(Problem(file.shown, None, str(refusal)))
                continue
            problems += page_problems(text, file.shown, settings, memo)
            publications[file.dest] = Publication(vetted.path, file.shown, vetted.stamp, text=text)
        else:
            publications[file.dest] = Publication(vetted.path, file.shown, vetted.stamp, copy=copies.get(vetted.path))
    return publications, problems


def _collisions(site: Site | None, outputs: list[Output], docs: Sequence[HandWritten]) -> list[Problem]:
    """Hand-written files at the site path of a generated page (of `site`, when given) or of an output."""
    generated = {f"{page.url}index.html": f"{page.title}（{page.url}）" for page in site.pages} if site else {}
    generated |= {output.dest: output.dest for output in outputs}
    return [Problem(file.shown, None, f"このファイルは自動で作られる「{generated[file.dest]}」と同じ場所（site/{file.dest}）に"
                                      "出力されます。このファイルを docs/ の別の場所に移すか、名前を変えてください。")
            for file in sorted(docs, key=lambda file: file.dest) if file.dest in generated]


def _asset_outputs(content: Content, passage: Passage,
                   copies: Mapping[Path, Path]) -> tuple[list[Output], list[Problem]]:
    """The published bodies' files from their copies in the cache (drafts' files are not among them). A file
    whose bytes are not those its URL was made from changed after its body was rendered: built again, the
    body links the new bytes."""
    from dayori.attachments import published_key

    outputs: dict[str, Output] = {}
    problems: list[Problem] = []
    for item in _items(content):
        for asset in item.body.assets:
            vetted, copy = passage.assets.get(asset.source), copies.get(asset.source)
            if vetted is None or copy is None or asset.dest in outputs:
                continue
            suffix = asset.source.suffix.lower()
            if asset.dest != f"{ASSET_FOLDER}{published_key(vetted.sha256, suffix)[:16]}{suffix}":
                problems.append(Problem(item.source, None, f"「{asset.source.name}」がビルドの途中で書き換わりました。"
                                                           "保存し終えてから、もう一度ビルドしてください。"))
                continue
            outputs[asset.dest] = Output(asset.dest, source=copy)
    return [outputs[dest] for dest in sorted(outputs)], problems


def _variant_outputs(variants: Variants) -> list[Output]:
    """The pictures' phone-sized and WebP copies (the widest fallback is the published picture itself)."""
    return [Output(variant.dest, source=variant.path) for sizes in variants.sizes.values()
            for variant in (*sizes.webp, *sizes.fallback[:-1])]


def _stylesheet() -> Output:
    """The components' stylesheet; the builder adds its own theme's files."""
    return Output(STYLESHEET, source=Path(str(resources.files("dayori") / "assets" / "dayori.css")))


def _unique(outputs: list[Output]) -> tuple[Output, ...]:
    """Each path once. The same file twice is one file (two episodes of one clip share its content-addressed
    renditions); two different files at one path is a bug, never silently overwritten."""
    seen: dict[str, Output] = {}
    for output in outputs:
        if output.dest in seen and seen[output.dest] != output:
            raise RuntimeError(f"two stages wrote different files at {output.dest}")
        seen.setdefault(output.dest, output)
    return tuple(seen.values())


def _items(content: Content) -> list[Issue | Episode]:
    return [*content.issues, *content.episodes]
