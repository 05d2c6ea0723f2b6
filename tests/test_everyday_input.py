"""What Japanese editors type every day: dates in every form, names from Windows and Macs, folders in
Japanese, copied folders, pasted addresses. Each case either works or stops the build with the file, the line
and the fix in Japanese; none ends in a traceback."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from lxml import html as lxml_html
from PIL import Image

from conftest import Project
from dayori.build import Build, prepare
from dayori.config import settings_from_file
from dayori.errors import ContentError

GOOD = "title: 題名\nsummary: 要約です。\ntags: [テスト]\n"


def issue(vol: int, date: str, rest: str = GOOD, body: str = "本文です。") -> str:
    return f"---\nvol: {vol}\ndate: {date}\n{rest}---\n\n{body}\n"


def engine_build(project: Project, monkeypatch: pytest.MonkeyPatch, today: str = "2026-12-26") -> Build:
    """The engine's whole build (content, check, media, feeds, email, pages) without MkDocs."""
    monkeypatch.setenv("DAYORI_TODAY", today)
    return prepare(settings_from_file(project.root / "mkdocs.yml"))


def problems_of(project: Project, monkeypatch: pytest.MonkeyPatch) -> str:
    with pytest.raises(ContentError) as raised:
        engine_build(project, monkeypatch)
    return raised.value.report()


def png(width: int = 8, height: int = 6, colour: tuple[int, int, int] = (10, 20, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def eml(build: Build, vol: int) -> EmailMessage:
    data = next(o for o in build.outputs if o.dest == f"email/{vol}/message.eml").data()
    return message_from_bytes(data, policy=policy.default)


# Dates ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "expected"), [
    ("2026-02-30", "2026年2月30日という日はありません（2026年2月は28日までです）"),
    ("2026-13-45", "13月という月はありません。月は 1〜12 で書いてください"),
    ("2026-12-04T10:00:00", "日付だけを書いてください（例: date: 2026-12-04）。時刻は指定できません"),
    ("2026-12-04 09:00", "日付だけを書いてください"),
    ("2026年12月4日 10時", "日付だけを書いてください"),
    ("2026年12月4日（木）", "2026年12月4日は金曜日です（木曜日と書かれています）"),
    ("令和元年4月1日", "令和元年4月1日 は令和の期間にない日付です"),
    ("12/4", "日付は「2026-12-04」のように 年-月-日 で書いてください"),
    ("0000-01-01", "0年は発行日として使えません"),
])
def test_impossible_dates_and_dates_with_a_time_are_explained_at_their_line(
        project: Project, monkeypatch: pytest.MonkeyPatch, written: str, expected: str) -> None:
    project.write("newsletter/2026/1.md", issue(1, written))
    report = problems_of(project, monkeypatch)
    assert f"newsletter/2026/1.md:3: 「date」（発行日）の値が正しくありません。{expected}" in report, report


@pytest.mark.parametrize("written", ["2026-12-04", "2026/12/4", "２０２６－１２－０４", "2026年12月4日",
                                     "2026年12月4日（金）", "令和8年12月4日", "R8.12.4", '"2026-12-04"'])
def test_dates_as_japanese_editors_type_them_are_read(project: Project, monkeypatch: pytest.MonkeyPatch,
                                                       written: str) -> None:
    project.write("newsletter/2026/1.md", issue(1, written))
    build = engine_build(project, monkeypatch)
    assert build.content.issues[0].date == dt.date(2026, 12, 4)


def test_an_episode_date_in_japanese_matches_its_folder(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write("videos/2026-12-04-会議のコツ/index.md",
                  "---\ntitle: t\ndate: 令和8年12月5日\nclip: clip.mp4\nsummary: s\n---\n")
    project.write("videos/2026-12-04-会議のコツ/clip.mp4", b"")
    report = problems_of(project, monkeypatch)
    assert "フォルダー名の日付（2026-12-04）と date（2026-12-05）が違います" in report, report


# Front matter -----------------------------------------------------------------------------------------------

def test_a_key_written_twice_is_an_error_naming_both_lines(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write("newsletter/2026/1.md", issue(1, "2026-12-04", GOOD + "draft: true\ndraft: false\n"))
    project.write("newsletter/2026/2.md", issue(2, "2026-12-04", GOOD + "title: 二つ目の題名\n"))
    report = problems_of(project, monkeypatch)
    assert "newsletter/2026/1.md:8: 「draft」が 7 行目と 8 行目の 2 か所に書かれています" in report, report
    assert "newsletter/2026/2.md:7: 「title」が 4 行目と 7 行目の 2 か所に書かれています" in report, report


@pytest.mark.parametrize(("line", "expected"), [
    ("title: yes", "yes"),
    ("title: 12:30", "12:30"),
    ("title: 12:30 からの会議", "12:30 からの会議"),
    ("title: 2026-12-04", "2026-12-04"),
    ("title: !!binary aGVsbG8=", "aGVsbG8="),
    ("title: *重要* のお知らせ", "「title」の値が「*」で始まっています"),
    ("title: [a, b]", "一覧ではなく、1 つの文で書いてください"),
    ("title: 題名\nauthors: &a [山田, 佐藤]\nvideos: [*a, *a]", "「videos」の値に YAML の別名"),
    ("title: " + "[" * 50 + "]" * 50, "「title」の値の入れ子が深すぎます"),
    ("Ｔｉｔｌｅ: 題名", "キーは半角の小文字で「title」と書いてください"),
    ("Title: 題名", "キーは半角の小文字で「title」と書いてください"),
])
def test_yaml_that_editors_type_by_accident(project: Project, monkeypatch: pytest.MonkeyPatch, line: str,
                                            expected: str) -> None:
    """A value reads as typed (YAML would make `yes` true and `12:30` the number 750); what YAML cannot use
    is explained at its line."""
    rest = GOOD.replace("title: 題名\n", "")
    project.write("newsletter/2026/1.md", issue(1, "2026-12-04", f"{line}\n{rest}"))
    monkeypatch.setenv("DAYORI_TODAY", "2026-12-26")
    try:
        build = prepare(settings_from_file(project.root / "mkdocs.yml"))
    except ContentError as error:
        assert expected in error.report() and "newsletter/2026/1.md:" in error.report(), error.report()
    else:
        assert build.content.issues[0].title == expected


# File names -------------------------------------------------------------------------------------------------

def test_an_issue_saved_as_dot_MD_is_an_issue_and_a_hidden_txt_is_named(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write("newsletter/2026/12-x.MD", issue(12, "2026-12-04"))
    build = engine_build(project, monkeypatch)
    assert [i.vol for i in build.content.issues] == [12]
    assert any(p.url == "newsletter/12/" for p in build.site.pages)
    project.write("newsletter/2026/13.md.txt", issue(13, "2026-12-04"))
    project.write("newsletter/2026/１４.md", issue(14, "2026-12-04"))
    report = problems_of(project, monkeypatch)
    assert "newsletter/2026/13.md.txt: このファイルは Markdown として読まれません。号のファイル名は「13.md」" in report
    assert "newsletter/2026/１４.md: ファイル名は「号数.md」" in report and "「14.md」ではありませんか？" in report


JAPANESE_NAMES = ["図.png", "スクリーンショット 2026-12-06 101010.png", "会議資料（案）.png", "ダイアログ.png"]


def test_pictures_with_japanese_names_travel_in_the_message(project: Project,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows' screenshot names, full-width brackets and a name saved on a Mac (NFD) each become an inline
    part whose file name Python's email parser reads back (RFC 2231) and whose Content-ID the HTML uses."""
    body = []
    for number, name in enumerate(JAPANESE_NAMES):
        saved = unicodedata.normalize("NFD", name) if name == "ダイアログ.png" else name
        project.write(f"newsletter/2026/img/{saved}", png(8 + number, 6, (number * 40, 10, 10)))
        body.append(f"![図{number}](<img/{name}>)")
    project.write("newsletter/2026/1.md", issue(1, "2026-12-04", body="\n\n".join(body)))
    build = engine_build(project, monkeypatch)
    message = eml(build, 1)
    parts = [part for part in message.walk() if part.get_content_maintype() == "image"]
    assert sorted(str(part.get_filename()) for part in parts) == sorted(JAPANESE_NAMES)
    html = str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]
    for part in parts:
        assert f'cid:{str(part["Content-ID"]).strip("<>")}' in html
        assert Image.open(io.BytesIO(part.get_content())).format == "PNG"
    again = engine_build(project, monkeypatch)
    assert eml(again, 1).as_bytes() == message.as_bytes()


def test_a_name_saved_on_a_mac_is_found_as_typed_and_a_case_slip_is_named(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write("newsletter/2026/img/" + unicodedata.normalize("NFD", "ダイアログ.png"), png())
    project.write("newsletter/2026/1.md", issue(1, "2026-12-04", body="![画面](img/ダイアログ.png)"))
    assert len(engine_build(project, monkeypatch).content.issues[0].body.assets) == 1
    project.write("newsletter/2026/img/Outlook-Rules.PNG", png())
    project.write("newsletter/2026/img/ｆｉｇｕｒｅ.png", png(3, 3))
    project.write("newsletter/2026/2.md", issue(2, "2026-12-04", body="![a](img/outlook-rules.png)\n\n![b](img/figure.png)"))
    report = problems_of(project, monkeypatch)
    assert ("newsletter/2026/2.md:9: リンク先または画像「img/outlook-rules.png」が見つかりません。" in report
            and "「img/Outlook-Rules.PNG」の書き間違いではありませんか？（大文字・小文字が違います）" in report), report
    assert "「img/ｆｉｇｕｒｅ.png」の書き間違いではありませんか？（全角・半角や大文字・小文字が違います）" in report, report


@pytest.mark.parametrize(("folder", "suggestion"), [
    ("2026-12-04 会議のコツ", "2026-12-04-会議のコツ"),
    ("2026-12-04-ＴＥＡＭＳ", "2026-12-04-teams"),
    ("2026-12-04-Teams Tips", "2026-12-04-teams-tips"),
    ("２０２６-１２-０４-会議", "2026-12-04-会議"),
    ("2026-12-04-会議・打合せ", "2026-12-04-会議-打合せ"),
])
def test_an_episode_folder_name_that_cannot_be_an_address_gets_the_name_meant(
        project: Project, monkeypatch: pytest.MonkeyPatch, folder: str, suggestion: str) -> None:
    project.write(f"videos/{folder}/index.md", "---\ntitle: t\ndate: 2026-12-04\nclip: c.mp4\nsummary: s\n---\n")
    report = problems_of(project, monkeypatch)
    assert f"videos/{folder}: 動画のフォルダー名は「公開日-名前」にしてください" in report, report
    assert f"「{suggestion}」ではありませんか？" in report, report


# Links ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["../6/", "../6", "../6/index.html", "/newsletter/6/", "/dayori/newsletter/6/",
                                     "http://127.0.0.1:8000/dayori/newsletter/6/", "http://localhost:8000/newsletter/6/",
                                     "../../newsletter/6/", "../6/#手順"])
def test_the_previews_own_address_of_an_issue_is_a_link_to_it(project: Project, monkeypatch: pytest.MonkeyPatch,
                                                              written: str) -> None:
    project.add_issue(6, "2026-12-04", "第六号")
    project.add_issue(7, "2026-12-11", "第七号", f"前号は [第6号]({written}) です。")
    build = engine_build(project, monkeypatch)
    page = next(p for p in build.site.pages if p.url == "newsletter/7/")
    hrefs = lxml_html.fromstring(page.html).xpath("//a[.='第6号']/@href")
    assert hrefs == ["../6/#手順" if written.endswith("#手順") else "../6/"]


def test_an_address_of_no_page_or_of_a_draft_is_explained(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.add_issue(6, "2026-12-04", "第六号", draft=True)
    project.add_issue(7, "2026-12-11", "第七号", "[下書き](../6/)\n\n[ない号](../99/)\n\n[プレビュー](http://127.0.0.1:8000/dayori/x/)")
    report = problems_of(project, monkeypatch)
    assert "リンク先「../6/」は下書き（draft: true）で、まだサイトにありません" in report, report
    assert "リンク先「../99/」が見つかりません。号や動画へのリンクなら" in report, report
    assert "「http://127.0.0.1:8000/dayori/x/」はプレビュー（make serve）のアドレスなので" in report, report


# What the terminal shows at the end -------------------------------------------------------------------------

def test_a_failed_build_ends_with_a_japanese_summary_and_keeps_the_site(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "よい号")
    assert project.run_build().returncode == 0
    before = {p: p.read_bytes() for p in project.site.rglob("*") if p.is_file()}
    project.write("newsletter/2026/2.md", issue(2, "2026-02-30"))
    project.write("newsletter/2026/3.md", issue(3, "2026-11-20", GOOD + "draft: true\ndraft: false\n"))
    result = project.run_build()
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1] == "ビルドを中止しました（2 件の問題）。site/ は前回のビルドのままです。"
    assert "Aborted" not in output and "Traceback" not in output and "BuildError" not in output
    assert {p: p.read_bytes() for p in project.site.rglob("*") if p.is_file()} == before


def test_a_good_build_reports_in_japanese(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "よい号")
    result = project.run_build()
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("INFO")]
    assert any(re.search(r"サイトを作りました（[\d.]+ 秒）", line) for line in lines), result.stderr
    assert not any(re.search(r"Documentation built|Cleaning site|Building documentation|dayori: ", line)
                   for line in lines), result.stderr


def test_a_strict_build_refused_for_warnings_says_so_in_japanese(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "よい号")
    project.add_issue(2, "2026-11-21", "壊れた下書き", "[ない](none.png)", draft=True)  # a warning in a site build
    result = project.run_build(args=("--strict",))
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "ビルドを中止しました（strict: true のため、警告 " in output and "strict mode" not in output, output


# Episodes ---------------------------------------------------------------------------------------------------

def episode_text(date: str, clip_name: str) -> str:
    return (f"---\ntitle: 会議のコツ\ndate: {date}\nclip: {clip_name}\ncaptions: 字幕.vtt\nsummary: 会議を短くするコツです。\n"
            "tags: [会議]\n---\n\n説明です。\n")


def test_japanese_episode_folders_and_one_clip_in_two_episodes(project: Project, tmp_path: Path) -> None:
    """A folder named in Japanese on a Mac (NFD), copied to a later date with the same clip, and an issue that
    names it as typed on Windows (NFC): both pages are published at readable addresses and share the clip's
    renditions, which are made once."""
    from media_clips import clip

    source = clip(tmp_path / "clip.mp4", seconds=1.0)
    first = unicodedata.normalize("NFD", "2026-12-04-会議のコツ")
    for folder, date, index in ((first, "2026-12-04", "index.md"), ("2026-12-11-会議のコツ-再掲", "2026-12-11", "INDEX.MD")):
        project.write(f"videos/{folder}/{unicodedata.normalize('NFD', '動画.mp4')}", source.read_bytes())
        project.write(f"videos/{folder}/字幕.vtt", "WEBVTT\n\n00:00.000 --> 00:00.900\n会議を短くします。\n")
        project.write(f"videos/{folder}/{index}", episode_text(date, "動画.mp4"))
    project.add_issue(1, "2026-12-11", "会議の号", "動画もご覧ください。", videos=["2026-12-04-会議のコツ"])
    project.build(today="2026-12-26")
    pages = {name: project.site / "videos" / name / "index.html" for name in ("2026-12-04-会議のコツ", "2026-12-11-会議のコツ-再掲")}
    assert all(page.is_file() for page in pages.values()), sorted(p.name for p in (project.site / "videos").iterdir())
    sources = [set(lxml_html.fromstring(page.read_bytes()).xpath("//video/source/@src")) for page in pages.values()]
    assert sources[0] and {s.rsplit("media/", 1)[1] for s in sources[0]} == {s.rsplit("media/", 1)[1] for s in sources[1]}
    issue_page = lxml_html.fromstring((project.site / "newsletter" / "1" / "index.html").read_bytes())
    assert any("videos/2026-12-04-" in unicodedata.normalize("NFC", href) for href in issue_page.xpath("//a/@href"))
    import feedparser

    feed = feedparser.parse((project.site / "feeds" / "videos.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 2
    assert {re.sub(r"^.*/videos/", "", unicodedata.normalize("NFC", _unquoted(e.link))) for e in feed.entries} == \
        {"2026-12-04-会議のコツ/", "2026-12-11-会議のコツ-再掲/"}


def _unquoted(url: str) -> str:
    from urllib.parse import unquote

    return unquote(url)
