"""Bodies are rendered once and reused; a reused body is never stale. Each test builds twice, as an editor
would after changing one thing, and checks what a reader sees."""

from __future__ import annotations

import os
import re

import sample_files
from conftest import Project


def image_urls(project: Project, vol: int) -> list[str]:
    html = (project.site / "newsletter" / str(vol) / "index.html").read_text(encoding="utf-8")
    return re.findall(r'<img alt="図" src="([^"]+)"', html)


def test_a_replaced_image_gets_its_new_address(project: Project) -> None:
    image = project.write("newsletter/2026/img/a.png", sample_files.png(colour=(10, 10, 10)))
    project.add_issue(1, "2026-11-20", "画像の号", "![図](img/a.png)")
    project.build()
    first = image_urls(project, 1)
    image.write_bytes(sample_files.png(80, 60, colour=(200, 10, 10)))
    later = image.stat().st_mtime_ns + 1_000_000_000  # an editor's save, a moment later
    os.utime(image, ns=(later, later))
    project.build()
    second = image_urls(project, 1)
    assert first != second
    assert (project.site / "newsletter" / "1" / second[0]).resolve().read_bytes() == image.read_bytes()


def test_a_missing_image_added_later_is_found(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "画像の号", "![図](img/later.png)")
    assert project.run_build().returncode != 0
    project.write("newsletter/2026/img/later.png", sample_files.png())
    assert project.run_build().returncode == 0
    assert image_urls(project, 1)


def test_a_link_follows_the_issue_it_points_to(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "リンク元", "[あの号](2-target.md)")
    project.write("newsletter/2026/2-target.md", (project.add_issue(2, "2026-11-13", "リンク先")).read_text())
    (project.root / "newsletter/2026/2.md").unlink()
    project.build()
    assert 'href="../2/"' in (project.site / "newsletter/1/index.html").read_text(encoding="utf-8")
    target = project.root / "newsletter/2026/2-target.md"
    target.rename(target.with_name("3-target.md"))
    moved = target.with_name("3-target.md")
    moved.write_text(moved.read_text(encoding="utf-8").replace("vol: 2", "vol: 3"), encoding="utf-8")
    result = project.run_build()
    assert result.returncode != 0 and "「2-target.md」が見つかりません" in result.stderr
