"""A synthetic archive of weekly issues that reads like the real 業務合理化便り: sentences built from a few dozen
templates and a vocabulary of tools, features, tasks and people, so that no two issues (and few sentences) are
alike, as the proofreader's cache and Sudachi see real ones; headings, numbered steps, lists, tables, admonitions
and key combinations as editors write them; a picture in every other issue and a PDF in every tenth; and, in
about one issue in six, one sentence with a real slip the proofreader flags as a warning (ら抜き, 誤変換, 冗長表現,
重言, カタカナ語), never an error, so that a build of the archive is never stopped by it.

The same seed gives the same archive. `write_projects` lays it out twice: as a Dayori project (the repository's
mkdocs.yml, docs/ and hooks/; issues in newsletter/) and as a plain MkDocs + Material project building the same
Markdown from docs/newsletter/ with the same mkdocs.yml minus the hooks and the navigation entries only the
hooks create."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FIRST_ISSUE_DATE = dt.date(2016, 12, 2)

TOOLS = ("Outlook", "Teams", "Excel", "Word", "PowerPoint", "OneDrive", "SharePoint", "Forms", "Power Automate",
         "電子決裁システム", "勤怠管理システム", "文書管理システム", "Web会議", "チャット", "共有フォルダー",
         "翻訳ツール", "音声入力", "複合機のスキャン", "庁内ポータル", "予定表")
FEATURES = ("仕分けルール", "予約送信", "クイック操作", "共有リンク", "変更履歴", "条件付き書式", "ピボットテーブル",
            "フィルター", "テンプレート", "背景のぼかし", "文字起こし", "自動保存", "バージョン履歴", "検索フォルダー",
            "署名", "自動応答", "共同編集", "ブレークアウトルーム", "投票", "入力規則", "差し込み印刷", "フラグ",
            "メンション", "ピン留め", "スタイル", "目次の自動作成", "スライドマスター", "承認フロー")
TASKS = ("会議の日程調整", "資料の共有", "出張旅費の精算", "議事録の作成", "予算の集計", "問い合わせへの回答",
         "申請書の確認", "研修の案内", "窓口の予約受付", "アンケートの集計", "文書の回覧", "備品の管理",
         "勤務表の作成", "報告書のとりまとめ", "名簿の更新", "会議室の予約", "議会答弁の準備",
         "広報誌の校正", "引き継ぎ資料の作成", "統計データの整理", "メールの整理")
PEOPLE = ("総務課の職員", "窓口担当の職員", "新しく着任した職員", "課長補佐", "係長", "支所の職員",
          "テレワーク中の職員", "会計担当の職員", "人事係の職員", "広報担当の職員", "システム担当の職員")
ADVERBS = ("ずっと早く", "かなり楽に", "思ったより簡単に", "半分ほどの時間で", "数分で", "手軽に", "確実に",
           "迷わずに", "ミスなく")
RESULTS = ("終わります", "片付きます", "進みます", "済みます", "できるようになります")
MENUS = ("「ファイル」の「オプション」", "「ホーム」タブ", "画面右上の「…」", "「表示」タブ", "「設定」の「全般」",
         "右クリックのメニュー", "「挿入」タブ", "画面左の「アプリ」")
SEASONS = ("年度末", "4月", "夏季休暇の前", "年末", "予算要求の時期", "人事異動の時期", "決算の時期", "議会の会期中")
EVENTS = ("会議", "締め切り", "引き継ぎ", "照会", "出張", "研修", "問い合わせ")
CAUTIONS = ("個人情報を含むファイルは、共有リンクの範囲を組織内に限ってください",
            "外部に送るメールは、送信前にもう一度宛先を確かめましょう",
            "使い終わったら、共有の設定を元に戻しておくと安心です",
            "うまく動かないときは、情報システム課のヘルプデスク（内線 2345）にご相談ください",
            "古い版のまま使っている場合は、画面の表示が少し違います",
            "庁外のネットワークからは使えない機能もあります")
VOICES = ("最初は不安でしたが、慣れると手放せません", "もっと早く知りたかったです", "課内で教え合うようになりました",
          "月末の残業が目に見えて減りました", "探し物の時間がほとんどなくなりました",
          "会議の前の準備がずいぶん楽になりました")
HEADINGS = ("こんなときに", "やり方", "使ってみた感想", "注意点", "応用編", "よくある質問", "まとめ", "準備するもの",
            "設定の手順", "ちょっとしたコツ", "職員の声", "背景")
KEYS = ("++ctrl+c++", "++ctrl+v++", "++ctrl+shift+v++", "++ctrl+z++", "++alt+tab++", "++win+shift+s++",
        "++ctrl+enter++", "++f2++", "++ctrl+f++", "++ctrl+shift+m++")
TAGS = ("Outlook", "Teams", "Excel", "Word", "テレワーク", "セキュリティ", "会議", "文書作成", "時短", "ペーパーレス",
        "電子決裁", "生成AI", "アクセシビリティ", "研修")
SLIPS = ("スマートフォンでも資料が見れます。", "制服は明日から着れます。", "明日の説明会には誰でも来れます。",
         "起案した文書を電子決済で回します。", "サービスの向上を計ります。", "関係部署との連携を測ります。",
         "共有フォルダーから資料を確認することができます。", "この機能を利用することができません。",
         "一番最初に設定を確認します。", "ディスクトップに置いたファイルは自動で保存されません。")
"""Sentences the proofreader flags as warnings (the labelled corpus has each): what editors' real slips cost the
first build, where every body is analysed."""
SLIP_SHARE = 1 / 6


def sentence(rng: random.Random) -> str:
    """One sentence in です・ます体, from a template chosen at random."""
    tool, other, feature, task = rng.choice(TOOLS), rng.choice(TOOLS), rng.choice(FEATURES), rng.choice(TASKS)
    templates = (
        lambda: f"{tool}の{feature}を使うと、{task}が{rng.choice(ADVERBS)}{rng.choice(RESULTS)}。",
        lambda: f"{rng.choice(PEOPLE)}から「{task}にかかる時間を減らせないか」という相談がありました。",
        lambda: f"今回は{tool}で{task}を楽にする方法を紹介します。",
        lambda: f"{feature}は、{rng.choice(MENUS)}から設定できます。",
        lambda: (f"先月のアンケートでは、{rng.randint(120, 4800):,}人の職員のうち{rng.randint(12, 87)}%が"
                 f"「{feature}を知らなかった」と答えました。"),
        lambda: f"キーボードでは {rng.choice(KEYS)} で同じ操作ができます。",
        lambda: f"{tool}を開いたら、まず{feature}の設定を確かめてください。",
        lambda: (f"{rng.choice(SEASONS)}は{rng.choice(EVENTS)}が重なり、{task}の件数がふだんの"
                 f"{rng.randint(2, 4)}倍ほどに増えます。"),
        lambda: f"{tool}と{other}を組み合わせれば、{task}の手間をさらに減らせます。",
        lambda: f"この方法なら、1回あたり{rng.randint(3, 25)}分、月に{rng.randint(2, 12)}時間ほどの節約になります。",
        lambda: f"{rng.choice(PEOPLE)}の声：「{rng.choice(VOICES)}」",
        lambda: f"なお、{rng.choice(CAUTIONS)}。",
        lambda: f"設定は{rng.randint(2, 10)}分ほどで終わり、次の日からすぐに効果が出ます。",
        lambda: f"**{feature}**を一度決めておけば、毎回同じ手順を繰り返す必要はありません。",
        lambda: f"{task}のたびに{tool}を開き直していた方は、ぜひ試してみてください。",
        lambda: f"昨年度は{rng.randint(1000, 30000):,}件の{task}があり、その{rng.randint(2, 9)}割が定型の作業でした。",
    )
    return rng.choice(templates)()


def paragraph(rng: random.Random) -> str:
    return "".join(sentence(rng) for _ in range(rng.randint(2, 5)))


def section(rng: random.Random, number: int) -> str:
    """A heading, a paragraph, and what editors put between paragraphs: steps, a list, a table, a tip."""
    parts = [f"## {rng.choice(HEADINGS)}（{number}）", paragraph(rng)]
    extra = rng.randrange(5)
    if extra == 0:
        parts.append("\n".join(f"{step}. {sentence(rng)}" for step in range(1, rng.randint(3, 6))))
    elif extra == 1:
        parts.append("\n".join(f"- {sentence(rng)}" for _ in range(rng.randint(2, 5))))
    elif extra == 2:
        rows = "\n".join(f"| {rng.choice(FEATURES)} | {sentence(rng)} |" for _ in range(rng.randint(2, 5)))
        parts.append(f"| 項目 | 内容 |\n| --- | --- |\n{rows}")
    elif extra == 3:
        parts.append(f'!!! tip "ポイント"\n\n    {sentence(rng)}')
    if rng.random() < 0.5:
        parts.append(paragraph(rng))
    return "\n\n".join(parts)


def issue_markdown(vol: int, date: dt.date, rng: random.Random) -> str:
    """One issue of 600 to 3,000 characters, as long as real ones vary."""
    tool, feature, task = rng.choice(TOOLS), rng.choice(FEATURES), rng.choice(TASKS)
    title = rng.choice((f"{tool}の{feature}で{task}を楽に", f"{task}を{rng.choice(ADVERBS)}済ませるコツ",
                        f"知っていますか？{tool}の{feature}", f"{feature}で変わる{task}"))
    meta = {"vol": vol, "date": date.isoformat(), "title": f"{title}（第{vol}号）", "summary": sentence(rng),
            "tags": rng.sample(TAGS, rng.randint(1, 3)), "authors": ["DXチーム"]}
    sections = [section(rng, number) for number in range(1, rng.randint(2, 5) + 1)]
    if rng.random() < SLIP_SHARE:
        sections.append(f"## 補足\n\n{rng.choice(SLIPS)}{sentence(rng)}")
    header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{header}---\n\n" + "\n\n".join(sections) + "\n"


def attachments(vol: int) -> dict[str, bytes]:
    """A picture in every other issue and a PDF in every tenth, as real issues have: the files the gate
    vets and the picture step copies."""
    from PIL import Image

    files: dict[str, bytes] = {}
    if vol % 2 == 0:
        out = io.BytesIO()
        Image.new("RGB", (320, 200), (vol % 256, 90, 160)).save(out, "PNG")
        files[f"figure-{vol}.png"] = out.getvalue()
    if vol % 10 == 0:
        files[f"report-{vol}.pdf"] = b"%PDF-1.4\n% report " + str(vol).encode() + b"\n%%EOF\n"
    return files


def issue_date(vol: int) -> dt.date:
    return FIRST_ISSUE_DATE + dt.timedelta(weeks=vol - 1)


def write_projects(folder: Path, issues: int, seed: int = 520) -> tuple[Path, Path]:
    """The Dayori project and the plain MkDocs one, with identical Markdown and attachments: `issues` weekly
    issues from 2016-12-02 (520 reach November 2026)."""
    rng = random.Random(seed)
    dayori, plain = folder / "dayori", folder / "plain"
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for project in (dayori, plain):
        shutil.copytree(ROOT / "docs", project / "docs")
    (dayori / "mkdocs.yml").write_text(config, encoding="utf-8")
    shutil.copytree(ROOT / "hooks", dayori / "hooks")
    (dayori / "videos").mkdir()
    (plain / "mkdocs.yml").write_text(plain_config(config), encoding="utf-8")
    for vol in range(1, issues + 1):
        date = issue_date(vol)
        text, files = issue_markdown(vol, date, rng), attachments(vol)
        text += "".join(f"\n{'!' if name.endswith('.png') else ''}[添付{n}](files/{name})\n"
                        for n, name in enumerate(files))
        for year in (dayori / "newsletter" / str(date.year), plain / "docs" / "newsletter" / str(date.year)):
            year.mkdir(parents=True, exist_ok=True)
            (year / f"{vol}.md").write_text(text, encoding="utf-8")
            for name, data in files.items():
                (year / "files").mkdir(exist_ok=True)
                (year / "files" / name).write_bytes(data)
    return dayori, plain


def plain_config(config: str) -> str:
    """The project's mkdocs.yml without its hooks and the navigation entries of the pages only they create."""
    without_hooks = re.sub(r"\nhooks:\n(?:  - .*\n)+", "\n", config)
    return re.sub(r"\n  - (業務合理化便り|DX日記|タグ): .*", "", without_hooks)
