"""The check beyond the newsletter's own files, and the check as a gate: Word and text files anywhere (read
back as JSON), the inline comment that silences one line, `send` and `announce` stopping on errors, the
summary line of `make site`, and quoted wording never flagged (Hypothesis over the corpus' wrong sentences)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Project
from dayori.check.analyzer import Analyzer
from dayori.check.base import Context
from dayori.check.document import analyse
from dayori.check.wording_rules import WORDING_RULES
from testsupport.proofreading import load_corpus

CORPUS = Path(__file__).with_name("proofreading_corpus.yml")


def run_dayori(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAYORI_TODAY": "2026-11-26", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    return subprocess.run([sys.executable, "-m", "dayori", *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=180, check=False)


def word_file(path: Path) -> Path:
    """An answer draft as staff write it: a title, paragraphs, a table with a merged cell, header and footer."""
    document = Document()
    document.add_heading("答弁案", level=1)                                    # paragraph 1
    document.add_paragraph("電子決済で回議してから施行します。")                    # 2
    document.add_paragraph("<!-- 校正: 無視 二重否定 -->")                        # 3
    document.add_paragraph("この方法が使えないわけではありません。")                # 4: silenced
    document.add_paragraph("この案に反対しないわけではありません。")                # 5
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "部長がお越しになられました。"  # 6 (merged: once)
    table.cell(1, 0).text = "問題はありません。"                                    # 7
    table.cell(1, 1).text = "予算は最少限に抑えます。"                             # 8
    document.sections[0].header.paragraphs[0].text = "資料を確認しします。"       # 9
    document.sections[0].footer.paragraphs[0].text = "ディスクトップに保存します。"  # 10
    document.save(str(path))
    return path


def test_word_and_text_files_are_checked_outside_any_project(tmp_path: Path) -> None:
    word_file(tmp_path / "答弁案.docx")
    (tmp_path / "メモ.txt").write_bytes("業務の効率化を計るため、様式を統一します。\r\n\r\n一番最初に確認します。\r\n"
                                      .encode("cp932"))
    result = run_dayori(tmp_path, "check", "答弁案.docx", "メモ.txt", "--format", "json")
    findings = json.loads(result.stdout)
    assert result.returncode == 1, result.stderr
    places = {(f["path"], f["line"], f["rule"], f["suggestion"]) for f in findings}
    assert places == {("答弁案.docx", 2, "誤変換", "決裁"), ("答弁案.docx", 5, "二重否定", places_advice(findings, 5)),
                      ("答弁案.docx", 6, "敬語", "お越しになりました"), ("答弁案.docx", 8, "誤変換", "最小限"),
                      ("答弁案.docx", 9, "衍字", "し"), ("答弁案.docx", 10, "カタカナ語", "デスクトップ"),
                      ("メモ.txt", 1, "誤変換", "図る"), ("メモ.txt", 3, "重言", "最初")}
    assert findings[0]["severity"] == "error" and findings[0]["rule"] == "衍字"
    text = run_dayori(tmp_path, "check", "答弁案.docx")
    assert "答弁案.docx:2:3: 誤変換: 「決済」: 「回議」と一緒なら「決裁」（上役が案を承認すること）では？（修正案：決裁）" in text.stdout


def places_advice(findings: list[dict[str, object]], line: int) -> object:
    return next(f["suggestion"] for f in findings if f["line"] == line and f["rule"] == "二重否定")


@pytest.mark.parametrize("name, content, message", [
    ("古い.doc", b"\xd0\xcf\x11\xe0", "古い Word の形式（.doc）"),
    ("壊れた.docx", b"not a zip", "Word の文書（.docx）として読めません"),
    ("ない.docx", None, "ない.docx が見つかりません"),
    ("欧文.txt", "caf\u00e9 \u2603".encode("utf-16"), "文字コードが UTF-8 でも Shift_JIS でもない"),
])
def test_unreadable_documents_get_a_japanese_message(tmp_path: Path, name: str, content: bytes | None,
                                                     message: str) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    result = run_dayori(tmp_path, "check", name)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_ignore_comment_silences_the_next_line_only(tmp_path: Path) -> None:
    path = tmp_path / "1.md"
    path.write_text("---\nvol: 1\n---\n\n<!-- 校正: 無視 二重否定 -->\n使えないわけではありません。\n"
                    "使えないわけではありません。\n\n使えないわけではありません。<!-- 校正: 無視 -->\n", encoding="utf-8")
    findings = analyse(path, Context("広報", 100, Analyzer())).findings
    assert [(f[0], f[2]) for f in findings] == [(7, "二重否定")]


def test_send_and_announce_stop_on_errors_until_fixed_or_silenced(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "確認の号", "資料を確認しします。\n\n設定をを確認します。")
    (project.root / "list.csv").write_text("a@example.go.jp\n", encoding="utf-8")
    send = run_dayori(project.root, "send", "--vol", "1", "--to", "list.csv", "--dry-run")
    announce = run_dayori(project.root, "announce", "--vol", "1", "--dry-run")
    for result, action in ((send, "配信"), (announce, "お知らせ")):
        assert result.returncode == 2
        assert f"第1号には校正のエラーが 2 件あるため、{action}を止めました" in result.stderr
        assert "newsletter/2026/1.md:9:7: 衍字: 「しし」に同じ字が重なっています。（修正案：し）" in result.stderr
        assert "newsletter/2026/1.md:11:4: 助詞の重複" in result.stderr
    project.add_issue(1, "2026-11-20", "確認の号", "資料を確認します。\n\n<!-- 校正: 無視 助詞の重複 -->\n設定をを確認します。")
    send = run_dayori(project.root, "send", "--vol", "1", "--to", "list.csv", "--dry-run")
    announce = run_dayori(project.root, "announce", "--vol", "1", "--dry-run")
    assert send.returncode == 0 and "1 件に送る予定です" in send.stdout, send.stderr
    assert announce.returncode == 0 and json.loads(announce.stdout)["type"] == "message", announce.stderr


def test_make_site_ends_with_a_summary_by_severity(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "確認の号", "資料を確認しします。一番最初に設定します。")
    result = project.run_build()
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if "校正: " in line and "件" in line]
    assert line.endswith("校正: エラー 1 件、警告 1 件（一覧は make check で見られます）。")
    project.add_issue(1, "2026-11-20", "確認の号", "資料を確認します。")
    assert "校正: 指摘はありません。" in project.run_build().stderr


_WRONG = [entry for entry in load_corpus(CORPUS)
          if len(entry["expect"]) == 1 and entry["expect"][0] in WORDING_RULES and "\n" not in entry["text"]
          and "「" not in entry["text"] and "`" not in entry["text"]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entry=st.sampled_from(_WRONG), lead=st.sampled_from(["", "なお、", "例えば ", "よくある誤りとして、"]),
       after=st.sampled_from(["という書き方は避けます。", "と書かないでください。", "ではなく、正しい形で書きます。",
                              "は誤りです。"]))
def test_wording_quoted_to_discuss_it_is_never_flagged(tmp_path: Path, entry: dict[str, object], lead: str,
                                                       after: str) -> None:
    wrong = str(entry["text"]).rstrip("。")
    if len(wrong) > 30:
        wrong = wrong[:30]
    path = tmp_path / "quoted.md"
    path.write_text(f"---\nvol: 1\n---\n\n{lead}「{wrong}」{after}\n", encoding="utf-8")
    findings = analyse(path, _CONTEXT).findings
    assert not [f for f in findings if f[2] in WORDING_RULES], findings


_CONTEXT = Context("広報", 100, Analyzer())
