"""One gate for every published file: what an attacker (or a careless editor) puts into the content folders
under an innocent name, through links or disguised, never reaches site/. Unit tests drive `dayori.gate.Gate`
on real files (Hypothesis varies names, link chains and contents); build tests run real MkDocs builds."""

from __future__ import annotations

import os
import re
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sample_files as sf
from conftest import Project
from dayori.gate import DEFAULT_LIMITS, TYPES, Gate, Refused, copy_vetted, open_vetted

SECRET = sf.SECRET
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def published_bytes(project: Project) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(project.site.rglob("*")) if path.is_file())


def assert_secret_nowhere(project: Project) -> None:
    if project.site.exists():
        assert SECRET.encode() not in published_bytes(project)


def good_site(project: Project) -> bytes:
    project.add_issue(1, "2026-11-13", "前の号", "前の号の本文です。")
    project.build()
    return (project.site / "newsletter" / "1" / "index.html").read_bytes()


def failed_build(project: Project) -> str:
    """What `make site` prints when it stops (it must stop)."""
    result = project.run_build()
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def content_folders(tmp_path: Path) -> tuple[Path, Gate]:
    project = tmp_path / "project"
    for name in ("newsletter", "videos", "docs", ".cache/dayori"):
        (project / name).mkdir(parents=True, exist_ok=True)
    gate = Gate([project / "newsletter", project / "videos", project / "docs"], [project / ".cache" / "dayori"])
    return project, gate


def refusal(gate: Gate, path: Path) -> str:
    with pytest.raises(Refused) as refused:
        gate.vet(path)
    return str(refused.value)


# --- the gate on its own --------------------------------------------------------------------------------------

def test_every_kind_editors_publish_passes_under_its_own_name(tmp_path: Path) -> None:
    project, gate = content_folders(tmp_path)
    for suffix, data in sf.SAMPLES.items():
        path = project / "newsletter" / "files" / f"資料 {suffix}.{suffix.upper()}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        assert gate.vet(path).suffix == suffix


NAMES = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="/\\\x00"), min_size=1,
                max_size=30).filter(lambda n: not n.startswith(".") and len(n.encode()) < 200 and n.strip() == n)


@PROPERTY
@given(stem=NAMES, declared=st.sampled_from(sorted(set(sf.SAMPLES) - {"md", "css", "vtt", "mov", "jpeg"})),
       actual=st.sampled_from(["sqlite", "zip of the project", "exe", "pdf", "png", "docx", "jpg", "mp4", "random"]),
       seed=st.binary(min_size=0, max_size=64))
def test_a_file_that_is_not_what_its_name_says_is_refused(tmp_path: Path, stem: str, declared: str, actual: str,
                                                         seed: bytes) -> None:
    project, gate = content_folders(tmp_path)
    contents = {"sqlite": lambda: sf.database_bytes(tmp_path / "db" / "x.sqlite3"),
                "zip of the project": lambda: sf.project_zip(tmp_path / "db"), "exe": lambda: b"MZ\x90\x00" + seed,
                "random": lambda: b"\x00\x01" + seed}
    data = contents[actual]() if actual in contents else sf.SAMPLES[actual]
    if actual in sf.SAMPLES and TYPES[actual].label == TYPES[declared].label:
        return  # a JPEG named .jpg is a JPEG
    path = project / "docs" / f"{stem}.{declared}"
    path.write_bytes(data)
    message = refusal(gate, path)
    assert f"名前は{TYPES[declared].label}ですが" in message
    if actual == "sqlite":
        assert "データベース" in message


def test_text_files_must_be_utf8_without_nul(tmp_path: Path) -> None:
    project, gate = content_folders(tmp_path)
    for name, data in {"shift_jis.css": "本文".encode("cp932"), "utf16.md": "本文".encode("utf-16"),
                       "db.vtt": sf.database_bytes(tmp_path / "x.sqlite3")}.items():
        path = project / "docs" / name
        path.write_bytes(data)
        assert "中身が" in refusal(gate, path)


def test_svg_and_html_files_are_refused_everywhere(tmp_path: Path) -> None:
    project, gate = content_folders(tmp_path)
    for folder in ("newsletter", "videos", "docs"):
        for name in ("logo.svg", "LOGO.SVG", "page.html"):
            path = project / folder / name
            path.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', encoding="utf-8")
            assert "プログラム" in refusal(gate, path)


def test_a_file_with_a_second_name_is_refused_wherever_the_other_name_is(tmp_path: Path) -> None:
    project, gate = content_folders(tmp_path)
    report = project / "newsletter" / "files" / "report.pdf"
    report.parent.mkdir()
    report.write_bytes(sf.PDF)
    assert gate.vet(report).suffix == "pdf"  # vouched once, with one name
    for elsewhere in (tmp_path / "ledger.pdf", project / ".cache" / "dayori" / "x.pdf", project / "docs" / "copy.pdf"):
        os.link(report, elsewhere)
        assert "ハードリンク" in refusal(gate, report)
        assert refusal(gate, elsewhere)  # refused too, by this or by where it is
        elsewhere.unlink()
    assert gate.vet(report).suffix == "pdf"


@PROPERTY
@given(hops=st.lists(st.sampled_from(["inside", "outside", "hidden", "cache"]), min_size=1, max_size=4),
       through_folders=st.booleans())
def test_a_chain_of_symlinks_is_followed_to_its_end(tmp_path: Path, hops: list[str], through_folders: bool) -> None:
    """Whatever chain of links (of files or of folders) leads to the file, it passes only if the file really
    lies inside the content folders, in no hidden folder and not in the cache."""
    case = Path(tempfile.mkdtemp(dir=tmp_path))  # one per example: the fixture's folder is shared
    project, gate = content_folders(case)
    places = {"inside": project / "newsletter" / "2026", "outside": case / "elsewhere",
              "hidden": project / "docs" / ".private", "cache": project / ".cache" / "dayori" / "files"}
    for folder in places.values():
        folder.mkdir(parents=True, exist_ok=True)
    target_folder = places[hops[-1]]
    (target_folder / "real.pdf").write_bytes(sf.PDF)
    previous = target_folder if through_folders else target_folder / "real.pdf"
    for number, where in enumerate(reversed(hops[:-1])):
        link = places[where] / f"link{number}{'' if through_folders else '.pdf'}"
        link.symlink_to(previous)
        previous = link
    entry = project / "newsletter" / ("entry" if through_folders else "entry.pdf")
    entry.symlink_to(previous)
    path = entry / "real.pdf" if through_folders else entry
    if hops[-1] == "inside":
        assert gate.vet(path).real == (places["inside"] / "real.pdf").resolve()
    else:
        assert refusal(gate, path)


def test_a_named_pipe_is_refused_without_waiting_for_it(tmp_path: Path) -> None:
    project, gate = content_folders(tmp_path)
    pipe = project / "docs" / "extra.css"
    os.mkfifo(pipe)
    assert "ふつうのファイルではありません" in refusal(gate, pipe)


def test_each_kind_has_a_size_limit_that_settings_change(tmp_path: Path) -> None:
    project, gate = content_folders(tmp_path)
    big = project / "newsletter" / "big.pdf"
    big.write_bytes(sf.PDF + b"%" * 2000)
    strict = Gate([project / "newsletter"], limits={"document": 1000})
    assert "size_limits" in refusal(strict, big) and "上限 1000 バイト" in refusal(strict, big)
    assert gate.vet(big).suffix == "pdf"
    assert set(DEFAULT_LIMITS) == {file_type.kind for file_type in TYPES.values()}


def test_a_vouched_file_changed_in_place_is_read_again(tmp_path: Path) -> None:
    """Same size, same modification time (set back with utime): the change time still tells."""
    project, gate = content_folders(tmp_path)
    path = project / "newsletter" / "report.pdf"
    path.write_bytes(sf.PDF)
    first = path.stat()
    gate.vet(path)
    database = sf.database_bytes(tmp_path / "x.sqlite3")[:len(sf.PDF)]
    path.write_bytes(database)
    os.utime(path, ns=(first.st_atime_ns, first.st_mtime_ns))
    assert "データベース" in refusal(Gate([project / "newsletter"], vouches=None), path)
    assert "データベース" in refusal(gate, path)


def test_what_the_gate_vetted_is_what_gets_copied(tmp_path: Path) -> None:
    """A symlink (or another file) swapped in after the gate looked is refused at the copy."""
    project, gate = content_folders(tmp_path)
    path = project / "docs" / "handout.pdf"
    path.write_bytes(sf.PDF)
    vetted = gate.vet(path)
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(sf.PDF + SECRET.encode())
    path.unlink()
    path.symlink_to(secret)
    with pytest.raises(Refused, match="入れ替わりました"):
        copy_vetted(path, vetted.stamp, tmp_path / "site" / "handout.pdf")
    assert not (tmp_path / "site" / "handout.pdf").exists()
    with pytest.raises(Refused):
        open_vetted(path, vetted.stamp)
    path.unlink()
    path.write_bytes(sf.PDF)
    again = gate.vet(path)
    os.link(path, tmp_path / "second-name.pdf")  # a second name given after the gate looked
    with pytest.raises(Refused):
        open_vetted(path, again.stamp)


# --- real builds -------------------------------------------------------------------------------------------------

LEDGER_PLACES = ["newsletter/2026/files/report.pdf", "newsletter/2026/報告 書.PDF", "videos/2026-11-19-demo/資料.pdf",
                 "docs/files/report.pdf"]


@pytest.mark.parametrize("place", LEDGER_PLACES)
def test_a_ledger_hard_linked_as_a_report_is_refused_and_nothing_leaks(project: Project, place: str) -> None:
    before = good_site(project)
    ledger = project.root / "state" / "ledger.sqlite3"
    sf.database_bytes(ledger)
    target = project.root / place
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(ledger, target)
    if place.startswith("videos/"):
        folder = target.parent
        (folder / "captions.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nこんにちは。\n", encoding="utf-8")
        (folder / "index.md").write_text(textwrap.dedent(f"""\
            ---
            title: 資料付きの回
            date: 2026-11-19
            clip: clip.mp4
            captions: captions.vtt
            summary: 資料のある回です。
            ---

            [資料]({target.name})
            """), encoding="utf-8")
        (folder / "clip.mp4").write_bytes(b"")
        source = folder / "index.md"
        line = line_of(source, target.name)
    elif place.startswith("docs/"):
        source = project.write("docs/handouts.md", "# 配布資料\n\n[報告書](files/report.pdf)\n")
        line = None
    else:
        url = os.path.relpath(target, project.root / "newsletter" / "2026").replace(" ", "%20")
        source = project.add_issue(2, "2026-11-20", "報告の号", f"今週の報告です。\n\n[報告書]({url})")
        line = line_of(source, url)
    report = failed_build(project)
    shown = source.relative_to(project.root).as_posix()
    where = f"{shown}:{line}: " if line else f"{place}: "
    assert re.search(re.escape(where) + r"[^\n]*ハードリンク", report), report
    assert (project.site / "newsletter" / "1" / "index.html").read_bytes() == before
    assert_secret_nowhere(project)


def test_dotenv_hard_linked_into_docs_under_any_name_is_refused(project: Project) -> None:
    env = project.write(".env", f"SMTP_PASSWORD={SECRET}\n")
    for name in ("docs/extra.css", "docs/js/site.js", "docs/files/settings.txt"):
        (project.root / name).parent.mkdir(parents=True, exist_ok=True)
        os.link(env, project.root / name)
    project.add_issue(1, "2026-11-20", "ふつうの号")
    report = failed_build(project)
    assert "docs/extra.css: " in report and "docs/js/site.js: " in report and "ハードリンク" in report
    assert_secret_nowhere(project)


def test_a_database_renamed_pdf_is_refused_naming_what_it_is(project: Project) -> None:
    before = good_site(project)
    sf.database_bytes(project.root / "newsletter" / "2026" / "files" / "名簿.pdf")
    project.write("newsletter/2026/files/archive.docx", sf.project_zip(project.root / "tmp"))
    issue = project.add_issue(2, "2026-11-20", "資料の号", "[名簿](files/名簿.pdf)\n\n[文書](files/archive.docx)")
    report = failed_build(project)
    assert f"newsletter/2026/2.md:{line_of(issue, '名簿.pdf')}: 「newsletter/2026/files/名簿.pdf」は名前はPDFですが" in report
    assert "データベース（SQLite）のようです" in report
    assert f"newsletter/2026/2.md:{line_of(issue, 'archive.docx')}: " in report and "Word の文書ではありません" in report
    assert (project.site / "newsletter" / "1" / "index.html").read_bytes() == before
    assert_secret_nowhere(project)


def test_an_issue_file_symlinked_from_outside_is_refused(project: Project, tmp_path: Path) -> None:
    before = good_site(project)
    outside = tmp_path / "elsewhere" / "notes.md"
    outside.parent.mkdir()
    outside.write_text(f"---\nvol: 2\ndate: 2026-11-20\ntitle: メモ\nsummary: メモ\n---\n\n{SECRET}\n", encoding="utf-8")
    (project.root / "newsletter" / "2026").mkdir(parents=True, exist_ok=True)
    (project.root / "newsletter" / "2026" / "2.md").symlink_to(outside)
    report = failed_build(project)
    assert "newsletter/2026/2.md: 公開用のフォルダー" in report
    assert (project.site / "newsletter" / "1" / "index.html").read_bytes() == before
    assert_secret_nowhere(project)


def test_an_episode_folder_symlinked_from_outside_is_refused(project: Project, tmp_path: Path) -> None:
    before = good_site(project)
    folder = tmp_path / "elsewhere" / "2026-11-19-secret"
    folder.mkdir(parents=True)
    (folder / "index.md").write_text(textwrap.dedent(f"""\
        ---
        title: 外の回
        date: 2026-11-19
        clip: clip.mp4
        summary: {SECRET}
        ---

        {SECRET}
        """), encoding="utf-8")
    (folder / "clip.mp4").write_bytes(sf.mp4_head())
    (project.root / "videos" / "2026-11-19-secret").symlink_to(folder)
    report = failed_build(project)
    assert "videos/2026-11-19-secret/index.md: 公開用のフォルダー" in report
    assert (project.site / "newsletter" / "1" / "index.html").read_bytes() == before
    assert_secret_nowhere(project)


def test_nested_symlinked_folders_inside_the_content_still_publish(project: Project) -> None:
    """The gate follows links, it does not forbid them: a picture kept once in docs/ and linked into an
    issue's folder through two folder links is published."""
    shared = project.write("docs/shared/img/figure.png", sf.png())
    (project.root / "newsletter" / "2026").mkdir(parents=True)
    (project.root / "docs" / "alias").symlink_to(project.root / "docs" / "shared")
    (project.root / "newsletter" / "2026" / "img").symlink_to(project.root / "docs" / "alias" / "img")
    project.add_issue(1, "2026-11-20", "図の号", "![図](img/figure.png)")
    project.build()
    published = [path for path in (project.site / "media" / "files").iterdir() if path.suffix != ".webp"]
    assert len(published) == 1 and published[0].read_bytes() == shared.read_bytes()  # and its WebP twin


SWAPPER = '''
import os
from pathlib import Path
from mkdocs.plugins import event_priority

@event_priority(-100)  # after the engine vetted everything, before MkDocs writes a file
def on_pre_build(config):
    root = Path(config.config_file_path).parent
    for name in ("docs/files/handout.pdf", "newsletter/2026/files/report.pdf"):
        victim = root / name
        victim.unlink()
        victim.symlink_to(root.parent / "secret.pdf")
'''


def test_a_symlink_swapped_in_during_a_build_publishes_nothing_of_it(project: Project) -> None:
    """An attacker's hook swaps two vetted files for symlinks to a secret at the worst moment: after the gate,
    before MkDocs copies. The issue's file is published from the engine's copy made while vetting; the docs/
    file's copy refuses the swapped inode, and the build fails."""
    (project.root.parent / "secret.pdf").write_bytes(sf.PDF + SECRET.encode())
    project.write("docs/files/handout.pdf", sf.PDF)
    project.write("docs/handouts.md", "# 配布資料\n\n[配布資料](files/handout.pdf)\n")
    project.write("newsletter/2026/files/report.pdf", sf.PDF + b"% report\n")
    project.add_issue(1, "2026-11-20", "報告の号", "[報告書](files/report.pdf)")
    project.write("hooks/attacker.py", SWAPPER)
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "  - hooks/dayori_hook.py", "  - hooks/dayori_hook.py\n  - hooks/attacker.py"), encoding="utf-8")
    report = failed_build(project)
    assert "入れ替わりました" in report
    assert not project.site.exists() or SECRET.encode() not in published_bytes(project)
    staging = [p for p in project.root.glob(".site.*") if p.is_dir()]
    assert not staging, "the failed build's folder was left behind"


def test_a_theme_override_folder_passes_the_same_gate(project: Project, tmp_path: Path) -> None:
    project.write("overrides/assets/extra.css", "body { color: #333; }\n")
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("  name: material\n",
                                                                 "  name: material\n  custom_dir: overrides\n"),
                      encoding="utf-8")
    project.add_issue(1, "2026-11-20", "ふつうの号")
    project.build()
    assert (project.site / "assets" / "extra.css").read_text(encoding="utf-8") == "body { color: #333; }\n"

    env = project.write(".env", f"TOKEN={SECRET}\n")
    os.link(env, project.root / "overrides" / "assets" / "theme.js")
    outside = tmp_path / "logo.png"
    outside.write_bytes(sf.png())
    (project.root / "overrides" / "assets" / "logo.png").symlink_to(outside)
    project.write("overrides/assets/logo.svg", "<svg><script>alert(1)</script></svg>")
    report = failed_build(project)
    assert "overrides/assets/theme.js: ハードリンク" in report
    assert "overrides/assets/logo.png: テーマのフォルダーの外" in report
    assert "overrides/assets/logo.svg: SVG" in report
    assert_secret_nowhere(project)


def test_size_limits_are_set_in_mkdocs_yml(project: Project) -> None:
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "    attachments:", "    size_limits:\n      image: 100\n    attachments:"), encoding="utf-8")
    project.write("newsletter/2026/img/photo.png", sf.png(200, 200))
    issue = project.add_issue(1, "2026-11-20", "写真の号", "![写真](img/photo.png)")
    report = failed_build(project)
    assert f"newsletter/2026/1.md:{line_of(issue, 'photo.png')}: 「newsletter/2026/img/photo.png」は大きすぎます" in report
    assert "size_limits" in report
