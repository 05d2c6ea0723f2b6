"""What an editor sees in the terminal after a mistake: every problem of every file in one run, in Japanese,
with the line and the fix; drafts and scheduled items checked too without blocking the published ones."""

from __future__ import annotations

import pytest

from conftest import Project

GOOD = "summary: 要約です。\ntags: [テスト]\n"


def front(vol_line: str, title_line: str, rest: str = GOOD, date: str = "2026-11-20") -> str:
    return f"---\n{vol_line}\ndate: {date}\n{title_line}\n{rest}---\n\n本文です。\n"


def output_of(project: Project) -> tuple[int, str]:
    result = project.run_build()
    return result.returncode, result.stdout + result.stderr


def test_yaml_mistakes_are_explained_in_japanese_with_line_and_fix(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "よい号")
    project.write("newsletter/2026/2.md", front("vol: 2", "title：全角コロンの号"))
    project.write("newsletter/2026/3.md", front("vol: 3", "title: タブの号", "summary: 要約\ntags:\n\t- テスト\n"))
    project.write("newsletter/2026/4.md", front("vol: 4", "title: 注意: これは大事"))
    project.write("newsletter/2026/5.md", front("vol: 5", 'title: "閉じていない'))
    project.write("newsletter/2026/6.md", front("vol: ６", "title: 全角数字の号"))
    project.write("newsletter/2026/7.md", front("vol: 7", "title:"))
    project.write("newsletter/2026/1234567.md", front("vol: 1234567", "title: 桁が多すぎる号"))
    code, output = output_of(project)
    assert code != 0
    expected = [
        "newsletter/2026/2.md:4: 「title」の後のコロンが全角の「：」です。半角の「:」に直し",
        "newsletter/2026/3.md:7: 行頭にタブ文字があります。",
        "newsletter/2026/4.md:4: 「title」の値の中に「: 」があります。値全体を引用符で囲んでください",
        "newsletter/2026/5.md:4: 「title」の値の引用符 \" が閉じていません。",
        "newsletter/2026/6.md:2: 「vol」（号数）の値が正しくありません。数字は半角で書いてください（例: 6）",
        "newsletter/2026/7.md:4: 「title」（タイトル）の値が空です。",
        "newsletter/2026/1234567.md:2: 「vol」（号数）の値が正しくありません。号数が大きすぎます",
    ]
    for line in expected:
        assert line in output, f"missing: {line}\n{output}"
    for english in ("could not find expected", "found character", "mapping values", "Traceback"):
        assert english not in output
    assert "必須のキー「title」" not in output


def test_vol_with_a_leading_zero_is_read_as_decimal_not_octal(project: Project) -> None:
    project.write("newsletter/2026/27.md", front("vol: 027", "title: 二十七号"))
    project.build()
    assert "二十七号" in (project.site / "newsletter" / "27" / "index.html").read_text(encoding="utf-8")
    assert not (project.site / "newsletter" / "23").exists()


def test_control_characters_are_reported_with_the_other_problems_of_other_files(project: Project) -> None:
    project.write("newsletter/2026/1.md", front("vol: 1", "title: Word\x0bから貼った題名",
                                                "summary: 要約\x00です\x1b\ntags: [テスト]\n"))
    project.write("newsletter/2026/2.md", front("vol: 2", 'title: "エスケープ\\ud800の題名"'))
    project.write("newsletter/2026/3.md", front("vol: 3", "titel: 別のファイルの誤り"))
    code, output = output_of(project)
    assert code != 0
    assert "newsletter/2026/1.md:4: 見えない制御文字（垂直タブ U+000B）が入っています" in output, output
    assert "newsletter/2026/1.md:5: 見えない制御文字（NUL U+0000、ESC U+001B）" in output, output
    assert "newsletter/2026/2.md:4: 「title」の値に見えない制御文字（壊れた文字 \\ud800）" in output, output
    assert "newsletter/2026/3.md:4: 「titel」は不明なキーです。「title」の書き間違いではありませんか？" in output
    assert "Traceback" not in output and "ReaderError" not in output


def test_a_broken_front_matter_does_not_hide_the_body_mistakes_and_near_names_are_suggested(
        project: Project) -> None:
    project.write("newsletter/2026/img/smartphone-video.png", b"\x89PNG not really")
    project.write("newsletter/2026/1.md",
                  "---\nvol: 1\ndate: 2026-11-20\ntitle：題名\nsummary: 要約\ntags: [テスト]\n---\n\n"
                  "本文です。\n\n![画面](img/smartphone-vidoe.png)\n")
    code, output = output_of(project)
    assert code != 0
    assert "newsletter/2026/1.md:4: 「title」の後のコロンが全角の「：」です" in output, output
    assert ("newsletter/2026/1.md:11: リンク先または画像「img/smartphone-vidoe.png」が見つかりません。"
            in output), output
    assert "「img/smartphone-video.png」の書き間違いではありませんか？" in output


def add_scheduled_episode_with_a_misspelt_clip(project: Project) -> None:
    project.write("videos/2026-12-10-later/clip.mp4", b"not read before its day")
    project.write("videos/2026-12-10-later/index.md",
                  "---\ntitle: 来月の動画\ndate: 2026-12-10\nclip: clpi.mp4\nsummary: 要約\n---\n\n説明です。\n")


def test_drafts_and_scheduled_items_warn_in_a_site_build_and_do_not_block_it(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "公開済みの号", videos=["2026-12-10-latr"])
    project.add_issue(2, "2026-11-21", "下書きの号", "[壊れたリンク](img/none.png)", draft=True)
    project.write("newsletter/2026/3.md", "---\nvol: 3\ndate: 2026-11-22\ndraft: true\ntitle：壊れた下書き\n---\n")
    add_scheduled_episode_with_a_misspelt_clip(project)
    result = project.run_build()
    output = result.stdout + result.stderr
    # The published issue names a video that does not exist (yet): that one is an error of a published file.
    assert result.returncode != 0
    assert "newsletter/2026/1.md:7: videos の「2026-12-10-latr」という動画のフォルダーが見つかりません。" \
           "「2026-12-10-later」の書き間違いではありませんか？" in output, output
    project.add_issue(1, "2026-11-20", "公開済みの号")
    result = project.run_build()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert (project.site / "newsletter" / "1" / "index.html").is_file()
    warnings = [line for line in output.splitlines() if line.startswith("WARNING")]
    assert any("newsletter/2026/2.md:" in line and "img/none.png" in line for line in warnings), output
    assert any("newsletter/2026/3.md:5: 「title」の後のコロンが全角" in line for line in warnings), output
    assert any("videos/2026-12-10-later/index.md:4: clip に書いたファイル「clpi.mp4」がこのフォルダーにありません。"
               "「clip.mp4」の書き間違いではありませんか？" in line for line in warnings), output


def test_drafts_and_scheduled_items_are_errors_in_preview(project: Project, caplog: pytest.LogCaptureFixture) -> None:
    project.add_issue(1, "2026-11-20", "公開済みの号")
    project.add_issue(2, "2026-11-21", "下書きの号", "[壊れたリンク](img/none.png)", draft=True)
    add_scheduled_episode_with_a_misspelt_clip(project)
    project.build(command="serve")  # the preview shows its errors as a page instead of failing
    page = (project.site / "404.html").read_text(encoding="utf-8")
    assert "newsletter/2026/2.md:" in page and "img/none.png" in page and "clpi.mp4" in page
    message = caplog.text
    assert "newsletter/2026/2.md" in message and "img/none.png" in message
    assert "videos/2026-12-10-later/index.md:4: clip に書いたファイル「clpi.mp4」" in message


def test_a_clean_build_has_nothing_to_say_about_the_project_dictionary(project: Project) -> None:
    """docs/表記ルール.yml is excluded in mkdocs.yml; a warning telling editors to publish it would be wrong."""
    project.add_issue(1, "2026-11-20", "ふつうの号")
    result = project.run_build()
    assert result.returncode == 0, result.stderr
    assert "表記ルール" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    assert not (project.site / "表記ルール.yml").exists()
