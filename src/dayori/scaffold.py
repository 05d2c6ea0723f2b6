"""`make new-issue`: the next vol, dated today, from a template; an existing file is never overwritten."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from dayori.config import today
from dayori.paths import markdown_files

ISSUE_NAME = re.compile(r"^(\d+)(?:-.*)?\.md$", re.IGNORECASE | re.ASCII)

TEMPLATE = """---
vol: {vol}
date: {date}
title: ここにタイトルを書きます
summary: この号の内容を 1〜2 文で書きます。メールのプレビューやフィードの説明に使われます。
tags: [タグ1, タグ2]
authors: [執筆者名]
draft: true
---

## はじめに

ここに本文を書きます。公開するときは上の `draft: true` を消すか `draft: false` にします。

## 手順

1. 一つ目の手順
2. 二つ目の手順

| 項目 | 説明 |
| --- | --- |
| 例 | 説明を書きます |

<!-- 画像は img フォルダーに置き、![画像の説明](img/ファイル名.png) のように書きます。 -->
"""


def next_vol(newsletter: Path) -> int:
    vols = [int(m.group(1)) for p in markdown_files(newsletter) if (m := ISSUE_NAME.match(p.name))]
    return max(vols, default=0) + 1


def create_issue(newsletter: Path) -> Path:
    """Writes `newsletter/<year>/<vol>.md` as a draft; raises FileExistsError rather than overwrite."""
    day = today()
    vol = next_vol(newsletter)
    path = newsletter / str(day.year) / f"{vol}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8", newline="\n") as file:
        file.write(TEMPLATE.format(vol=vol, date=day.isoformat()))
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--newsletter", type=Path, default=Path("newsletter"), help="号を置くフォルダー")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        path = create_issue(args.newsletter)
    except FileExistsError as error:
        print(f"{error.filename} はすでにあります。上書きはしません。", flush=True)
        return 1
    print(f"{path} を作りました（下書き）。本文を書いて、make serve で確認してください。")
    return 0
