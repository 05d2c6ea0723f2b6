"""The proofreading check as editors meet it: `python -m dayori check`, the build's warnings, strict mode,
the preview panel under `mkdocs serve` (never in site/), the archive-wide rules and the cache."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import threading
from dataclasses import replace

import pytest
from PIL import Image

from conftest import Project
from dayori.check import Finding, check_files, content_files
from dayori.config import settings_from_file

TYPO_BODY = """
## 手順

ｻｰﾊﾞｰの設定をを確認します。テレワ－クの日も同じです。

資料は見れますので、確認することができます。
"""


def run_check(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAYORI_TODAY": "2026-11-26"}
    return subprocess.run([sys.executable, "-m", "dayori", "check", *args], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def set_check(project: Project, lines: str) -> None:
    config = project.root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    start = text.index("    check:\n")
    end = start + len("    check:\n")
    while text.startswith("      ", end):
        end = text.index("\n", end) + 1
    config.write_text(text[:start] + lines + text[end:], encoding="utf-8")


def test_command_reports_place_rule_and_suggestion_errors_first(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "設定の確認", TYPO_BODY)
    result = run_check(project)
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert lines[:4] == [
        "newsletter/2026/1.md:11:1: 半角カナ: 「ｻｰﾊﾞｰ」は半角カタカナです。（修正案：サーバー）",
        "newsletter/2026/1.md:11:10: 助詞の重複: 助詞「を」が続いています。（修正案：を）",
        "newsletter/2026/1.md:11:20: 長音符: 「テレワ－ク」の「－」は長音記号「ー」ではありません。（修正案：テレワーク）",
        "newsletter/2026/1.md:13:4: ら抜き: 「見れ」はら抜き言葉です。（修正案：見られ）",
    ]
    assert "newsletter/2026/1.md:13:11: 冗長表現: 「確認することができ…」は「確認できる」で足ります。（修正案：確認できます）" in lines
    assert "エラー 3 件、警告 2 件" in result.stderr


def test_json_output_is_a_list_of_findings(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "設定の確認", TYPO_BODY)
    result = run_check(project, "--format", "json")
    findings = json.loads(result.stdout)
    assert result.returncode == 1
    assert findings[0] == {"path": "newsletter/2026/1.md", "line": 11, "column": 1, "rule": "半角カナ",
                           "severity": "error", "message": "「ｻｰﾊﾞｰ」は半角カタカナです。", "suggestion": "サーバー"}
    assert {f["severity"] for f in findings} == {"error", "warning"}


def test_clean_content_exits_zero_and_warnings_alone_do_not_fail(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "設定の確認", "設定を確認します。")
    assert run_check(project).returncode == 0
    project.add_issue(2, "2026-11-27", "ら抜き", "スマートフォンでも資料が見れます。")
    result = run_check(project)
    assert result.returncode == 0 and "ら抜き" in result.stdout


def test_paths_limit_the_report_and_unknown_paths_are_named(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "一", "設定をを確認します。")
    project.add_issue(2, "2026-11-27", "二", "資料をを共有します。")
    result = run_check(project, "newsletter/2026/2.md")
    assert "newsletter/2026/2.md" in result.stdout and "newsletter/2026/1.md" not in result.stdout
    missing = run_check(project, "newsletter/2026/9.md")
    assert missing.returncode == 2 and "newsletter/2026/9.md が見つかりません" in missing.stderr


def test_front_matter_captions_and_template_leftovers(project: Project) -> None:
    project.write("newsletter/2026/1.md", "---\nvol: 1\ndate: 2026-11-20\ntitle: ここにタイトルを書きます\n"
                  "summary: ＶＰＮの設定です。\ntags: [タグ1]\n---\n\nここに本文を書きます。\n")
    folder = "videos/2026-11-20-vpn"
    project.write(f"{folder}/index.md", "---\ntitle: VPN の接続\ndate: 2026-11-20\nclip: clip.mp4\n"
                  "captions: captions.vtt\ntags: [VPN]\nsummary: 接続の手順です。\n---\n\n接続の手順です。\n")
    project.write(f"{folder}/captions.vtt", "WEBVTT\n\n00:00.000 --> 00:02.000\nまず、設定をを開きます。\n")
    lines = run_check(project).stdout.splitlines()
    assert "newsletter/2026/1.md:4:8: ひな形: title がひな形の文のままです。（修正案：この号の内容に書き換える）" in lines
    assert "newsletter/2026/1.md:5:10: 全角英数: 「ＶＰＮ」は全角の英数字です。（修正案：VPN）" in lines
    assert "newsletter/2026/1.md:6:8: ひな形: tags の「タグ1」はひな形の仮の値です。（修正案：タグ一覧から選ぶ）" in lines
    assert "newsletter/2026/1.md:9:1: ひな形: ひな形の文「ここに本文を書きます。」が残っています。（修正案：本文に書き換えるか消す）" in lines
    assert f"{folder}/captions.vtt:4:7: 助詞の重複: 助詞「を」が続いています。（修正案：を）" in lines


def test_archive_variants_report_the_minority_with_the_majority(project: Project) -> None:
    project.add_issue(1, "2026-11-06", "一", "サーバーを再起動します。サーバーの予定です。", tags=["テレワーク"])
    project.add_issue(2, "2026-11-13", "二", "サーバーの保守をします。", tags=["テレワーク"])
    project.add_issue(3, "2026-11-20", "三", "サーバを止めます。", tags=["テレワ－ク"])
    lines = run_check(project).stdout.splitlines()
    assert "newsletter/2026/3.md:9:1: 表記ゆれ: 「サーバ」と「サーバー」の書き方が混じっています（サーバー 3 回、サーバ 1 回）。（修正案：サーバー）" in lines
    assert "newsletter/2026/3.md:6:8: タグのゆれ: タグ「テレワ－ク」は既にあるタグ「テレワーク」と書き方だけが違います。（修正案：テレワーク）" in lines
    assert not any(line.startswith(("newsletter/2026/1.md", "newsletter/2026/2.md")) for line in lines)


def test_verbs_potential_forms_are_not_variants(project: Project) -> None:
    project.add_issue(1, "2026-11-06", "一", "ツールを使います。ツールを使えば早いです。")
    project.add_issue(2, "2026-11-13", "二", "ツールを使えます。電話で問い合わせる。電話で問い合わせます。")
    project.add_issue(3, "2026-11-20", "三", "電話で問合せます。")
    lines = run_check(project).stdout.splitlines()
    assert not any("使え" in line for line in lines)


def test_big_images_are_reported_with_their_size(project: Project) -> None:
    Image.new("RGB", (4000, 300), "white").save(project.write("newsletter/2026/img/big.png", b""))
    Image.new("RGB", (600, 340), "white").save(project.write("newsletter/2026/img/small.png", b""))
    project.add_issue(1, "2026-11-20", "画像", "![大きい図](img/big.png)\n\n![小さい図](img/small.png)")
    lines = run_check(project).stdout.splitlines()
    assert lines == [("newsletter/2026/1.md:9:1: 画像サイズ: 画像「img/big.png」は 4000×300 ピクセルで、上限（長い辺 2000 "
                      "ピクセル）を超えています。（修正案：長い辺を 2000 ピクセル以下に縮小する）")]


def test_settings_turn_rules_off_change_severity_and_profile(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "一", "電話又はメールで会議の確認を行います。ｻｰﾊﾞｰです。")
    assert "公用文表記" in run_check(project).stdout and "を行う" not in run_check(project).stdout
    set_check(project, "    check:\n      profile: 通知\n      rules:\n        を行う: on\n        半角カナ: 警告\n")
    result = run_check(project)
    assert result.returncode == 0
    assert "公用文表記" not in result.stdout and "を行う: 「確認を行い」は「確認する」と書けます。" in result.stdout
    set_check(project, "    check:\n      rules:\n        半角力ナ: オフ\n")
    result = run_check(project)
    assert result.returncode == 2 and "「半角力ナ」という規則はありません" in result.stderr


def test_project_dictionary_and_inline_switch(project: Project) -> None:
    project.write("docs/表記ルール.yml", "メアド: メールアドレス\nrules:\n  - expected: Teams\n    patterns: [チームズ]\n"
                  "    prh: 製品名は英語で\n")
    project.add_issue(1, "2026-11-20", "一", "メアドを確認します。チームズで連絡します。\n\n"
                      "<!-- dayori: 校正オフ 表記ルール -->\nここではメアドと書きます。")
    lines = run_check(project).stdout.splitlines()
    assert lines == ["newsletter/2026/1.md:9:1: 表記ルール: 「メアド」は「メールアドレス」と書く決まりです。（修正案：メールアドレス）",
                     "newsletter/2026/1.md:9:11: 表記ルール: 「チームズ」は「Teams」と書く決まりです（製品名は英語で）。（修正案：Teams）"]


def test_sample_content_is_clean() -> None:
    from conftest import ROOT

    result = subprocess.run([sys.executable, "-m", "dayori", "check"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert (result.returncode, result.stdout) == (0, "")


def test_warm_check_reads_the_cache_and_never_loads_the_dictionary(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "一", TYPO_BODY)
    project.add_issue(2, "2026-11-27", "二", "設定を確認します。")
    settings = settings_from_file(project.root / "mkdocs.yml")
    cold = check_files(settings, content_files(settings))
    warm = check_files(settings, content_files(settings))
    assert (cold.analysed, cold.dictionary_loaded) == (2, True)
    assert (warm.analysed, warm.cached, warm.dictionary_loaded) == (0, 2, False)
    assert warm.findings == cold.findings
    project.add_issue(2, "2026-11-27", "二", "設定をを確認します。")
    edited = check_files(settings, content_files(settings))
    assert (edited.analysed, edited.cached) == (1, 1) and "助詞の重複" in {f.rule for f in edited.findings}
    quiet = check_files(replace(settings, check=replace(settings.check, rules={"助詞の重複": "オフ"})),
                        content_files(settings))
    assert quiet.analysed == 0 and "助詞の重複" not in {f.rule for f in quiet.findings}


BODIES = ("設定をを確認します。テレワ－クの日も同じです。", "資料は見れますので、確認することができます。",
          "電子決済で回議してから施行します。", "ｻｰﾊﾞｰを再起動します。ウィルスメールに注意してください。",
          "サーバを止めます。一番最初に連絡します。", "使えないわけではありません。")


def _findings_of_each_way(project: Project, count: int) -> dict[str, tuple[Finding, ...]]:
    for vol in range(1, count + 1):
        body = "\n\n".join(BODIES[(vol + i) % len(BODIES)] for i in range(vol % 4 + 1))
        project.add_issue(vol, f"2026-{1 + vol % 12:02d}-{1 + vol % 27:02d}", f"第{vol}号", body)
    settings = settings_from_file(project.root / "mkdocs.yml")
    found: dict[str, tuple[Finding, ...]] = {}
    for workers in (1, 2, 3):
        shutil.rmtree(settings.cache_path / "check", ignore_errors=True)
        report = check_files(settings, content_files(settings), workers=workers)
        assert report.analysed == count
        found[f"{workers} processes"] = report.findings
        again = check_files(settings, content_files(settings), workers=workers)
        assert again.analysed == 0 and again.findings == report.findings  # what the processes stored
    return found


def test_findings_do_not_depend_on_how_many_processes_analyse(project: Project) -> None:
    """A first check shares the files out between processes (forked here, as on Linux without threads): the
    findings, their order and what the cache keeps are the same as from one process."""
    found = _findings_of_each_way(project, 40)
    assert len(set(found.values())) == 1, found
    rules = {f.rule for f in found["1 processes"]}
    assert {"助詞の重複", "ら抜き", "誤変換", "半角カナ", "重言", "二重否定", "表記ゆれ"} <= rules


def test_new_interpreters_analyse_alike_when_threads_forbid_a_fork(project: Project) -> None:
    """With another thread running (a preview server), processes are started fresh (spawn), not forked."""
    stop = threading.Event()
    waiter = threading.Thread(target=stop.wait, daemon=True)
    waiter.start()
    try:
        found = _findings_of_each_way(project, 12)
    finally:
        stop.set()
    assert len(set(found.values())) == 1, found


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


@pytest.mark.parametrize("value, shared_out", [("1", False), ("2", True)])
def test_environment_decides_how_many_processes_analyse(project: Project, monkeypatch: pytest.MonkeyPatch,
                                                        value: str, shared_out: bool) -> None:
    """DAYORI_CHECK_WORKERS=1 keeps the analysis in the calling process (a build that already runs the check
    beside its page rendering), with the same findings; other processes' work shows in the CPU of children."""
    for vol in range(1, 25):
        project.add_issue(vol, f"2026-{1 + vol % 12:02d}-{1 + vol % 27:02d}", f"第{vol}号",
                          "\n\n".join(BODIES[(vol + i) % len(BODIES)] for i in range(4)))
    settings = settings_from_file(project.root / "mkdocs.yml")
    alone = check_files(settings, content_files(settings), workers=1)
    shutil.rmtree(settings.cache_path / "check")
    monkeypatch.setenv("DAYORI_CHECK_WORKERS", value)
    before = _children_cpu()
    report = check_files(settings, content_files(settings))
    assert (_children_cpu() > before) is shared_out
    assert report.analysed == 24 and report.findings == alone.findings


def test_a_wrong_number_of_processes_is_named(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "一", "設定を確認します。")
    env = {**os.environ, "DAYORI_TODAY": "2026-11-26", "DAYORI_CHECK_WORKERS": "２つ"}
    result = subprocess.run([sys.executable, "-m", "dayori", "check"], cwd=project.root, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "環境変数 DAYORI_CHECK_WORKERS は 1 以上の整数にしてください（今は「２つ」）" in result.stderr


def test_build_warns_and_strict_build_stops_on_errors(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "設定の確認", TYPO_BODY)
    result = project.run_build()
    assert result.returncode == 0
    assert "校正 newsletter/2026/1.md:11:10: 助詞の重複: 助詞「を」が続いています。（修正案：を）" in result.stderr
    assert "newsletter/2026/1.md:11:10" not in project.site_text()
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("strict: false", "strict: true"), encoding="utf-8")
    before = (project.site / "newsletter" / "1" / "index.html").read_bytes()
    result = project.run_build()
    assert result.returncode != 0
    assert "newsletter/2026/1.md:11: 助詞の重複: 助詞「を」が続いています。（修正案：を）" in result.stderr
    assert (project.site / "newsletter" / "1" / "index.html").read_bytes() == before


def test_preview_shows_findings_on_the_page_and_the_site_never_does(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "設定の確認", TYPO_BODY)
    project.add_issue(2, "2026-11-27", "下書き", "資料をを<b>共有</b>します。", draft=True)
    project.build(command="serve")
    page = (project.site / "newsletter" / "1" / "index.html").read_text(encoding="utf-8")
    assert "校正の指摘 5 件" in page and "助詞「を」が続いています。（修正案：を）" in page
    assert "newsletter/2026/1.md:11:10" in page
    draft = (project.site / "newsletter" / "2" / "index.html").read_text(encoding="utf-8")
    assert "校正の指摘" in draft and "<b>共有</b>" not in draft.split("校正の指摘")[1].split("</aside>")[0]
    project.build()
    site = project.site_text()
    assert 'class="dayori-proofreading"' not in site and "newsletter/2026/1.md:11:10" not in site


@pytest.mark.parametrize("text", ["設定を\u200b確認します。", "テ\u3099ータを保存します。"])
def test_invisible_and_decomposed_characters_are_errors(project: Project, text: str) -> None:
    project.add_issue(1, "2026-11-20", "一", text)
    result = run_check(project)
    assert result.returncode == 1 and "newsletter/2026/1.md:9:" in result.stdout


def test_command_runs_where_mkdocs_cannot_be_imported(project: Project) -> None:
    from testsupport.helpers import ENGINE_BUILD

    project.add_issue(1, "2026-11-20", "一", "設定をを確認します。")
    blocker = ENGINE_BUILD.split("sys.meta_path.insert(0, NoBuilder())")[0]
    script = blocker + "sys.meta_path.insert(0, NoBuilder())\nfrom dayori.__main__ import main\nsys.exit(main(['check']))\n"
    result = subprocess.run([sys.executable, "-c", script], cwd=project.root, capture_output=True, text=True,
                            timeout=120, check=False, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 1, result.stderr
    assert "newsletter/2026/1.md:9:4: 助詞の重複" in result.stdout


def test_a_pasted_report_longer_than_sudachi_takes_is_checked_to_its_end(project: Project) -> None:
    sentence = "業務の手順を確認します。" * 3000
    project.add_issue(1, "2026-11-20", "長い号", sentence + "設定をを確認します。")
    result = run_check(project)
    assert result.returncode == 1 and "newsletter/2026/1.md:9:36004: 助詞の重複" in result.stdout


def test_okurigana_and_titles_are_read_from_mkdocs_yml(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "一", "依頼を断わることもあります。\n\n文書取扱規程集及び細則に従います。")
    lines = run_check(project).stdout.splitlines()
    assert any("送り仮名: 「断わる」は「送り仮名の付け方」の許容の形です。本則では「断る」です。" in line for line in lines)
    assert any("公用文表記: 「及び」" in line for line in lines)
    set_check(project, "    check:\n      okurigana: 許容\n      titles: [文書取扱規程集]\n")
    assert run_check(project).stdout == ""
    set_check(project, "    check:\n      okurigana: 例外\n")
    result = run_check(project)
    assert result.returncode == 2 and "okurigana は「本則」か「許容」にしてください（今は「例外」）" in result.stderr


def test_guide_lists_every_rule_with_an_example_and_its_source() -> None:
    """Editors learn the rules from the guide's 「規則の一覧」: each rule (and ファイル, which reports files the
    check cannot read) has a row with its default, an example and where the rule comes from."""
    from conftest import ROOT
    from dayori.check.rules import RULES

    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    table = guide[guide.index("### 規則の一覧"):guide.index("### 設定を変える")]
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("規則名", "---"):
            rows[cells[0]] = cells
    assert set(rows) == {*RULES, "ファイル"}
    for name, (_, default, found, example, source) in rows.items():
        assert default in ("警告", "エラー", "オフ") and found, name
        assert "→" in example and source not in ("", "—", "-"), name
