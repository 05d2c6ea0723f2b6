"""`site/` is always one whole build: a killed, failed or concurrent build never leaves a mix or an empty
folder, and nothing done to `site/` reaches the cache that later builds copy from."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mkdocs.exceptions import Abort

import media_clips as mc
from conftest import TODAY, Project
from dayori import sitedir
from testsupport.helpers import wait_for

Snapshot = dict[str, str]


def snapshot(site: Path) -> Snapshot:
    """Every file of the site with the hash of its bytes: what a web server would hand out."""
    return {path.relative_to(site).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(site.rglob("*")) if path.is_file()}


def build_env() -> dict[str, str]:
    return {**os.environ, "DAYORI_TODAY": TODAY, "NO_COLOR": "1", "SOURCE_DATE_EPOCH": "1764115200"}


def start_build(project: Project, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "mkdocs", "build", *args], cwd=project.root, env=build_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def finished_build(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", *args], cwd=project.root, env=build_env(),
                          capture_output=True, text=True, timeout=300, check=False)


def fresh_files(root: Path, since_ns: int) -> int:
    """Files written since a moment, in `site/` or any folder beside it: how far a running build has got,
    wherever it writes."""
    count = 0
    for folder in root.iterdir():
        if folder.name == "site" or folder.name.startswith(".site"):
            try:
                count += sum(1 for path in folder.rglob("*") if path.stat().st_mtime_ns >= since_ns)
            except FileNotFoundError:
                continue
    return count


def kill_when(child: subprocess.Popen[str], root: Path, since_ns: int, files: int) -> bool:
    """`kill -9` once the build has written `files` files; True when it was still running then."""
    wait_for(lambda: child.poll() is not None or fresh_files(root, since_ns) >= files,
             f"the build writing {files} files", interval=0.002)
    running = child.poll() is None
    with contextlib.suppress(ProcessLookupError):  # the build finished first (reused files keep their times)
        os.killpg(child.pid, signal.SIGKILL)
    child.communicate()
    return running


def leftovers(root: Path) -> list[str]:
    return sorted(path.name for path in root.iterdir() if path.name.startswith(".site"))


def no_leftovers(root: Path) -> bool:
    """The earlier tree is deleted by a process of its own after the build returns (`sitedir.delete_later`)."""
    wait_for(lambda: not leftovers(root), f"the folders beside site/ to go: {leftovers(root)}")
    return True


def test_build_killed_at_any_moment_leaves_the_previous_site_whole(project: Project) -> None:
    project.add_issue(1, "2026-11-02", "最初の号")
    assert finished_build(project).returncode == 0
    before = snapshot(project.site)
    project.add_issue(2, "2026-11-09", "次の号")
    seen: list[Snapshot] = []
    killed_running = 0
    for files in (1, len(before) // 2, len(before) - 3, len(before) + 20):
        since = time.time_ns() - 1_000_000
        killed_running += kill_when(start_build(project), project.root, since, files)
        seen.append(snapshot(project.site))
    assert killed_running >= 2, "every build finished before it could be killed"
    result = finished_build(project)
    assert result.returncode == 0, result.stderr
    after = snapshot(project.site)
    assert after != before
    for moment, site in enumerate(seen):
        assert site in (before, after), f"kill {moment}: site/ is neither the previous nor the next build"
    assert no_leftovers(project.root), "a later build clears what killed builds left behind"


def settled_snapshot(site: Path) -> Snapshot:
    """A snapshot taken while builds run: a file may vanish between listing and reading, then look again."""
    for _ in range(20):
        try:
            return snapshot(site)
        except FileNotFoundError:
            time.sleep(0.01)
    return snapshot(site)


def test_two_builds_at_once_both_finish_and_readers_always_see_a_whole_site(project: Project) -> None:
    for vol in (1, 2, 3):
        project.add_issue(vol, f"2026-11-0{vol}", f"第{vol}の記事")
    assert finished_build(project).returncode == 0
    whole = snapshot(project.site)
    for _ in range(2):
        builds = [start_build(project), start_build(project)]
        seen = []
        while any(child.poll() is None for child in builds):
            seen.append(settled_snapshot(project.site))
        for child in builds:
            _, stderr = child.communicate(timeout=300)
            assert child.returncode == 0 or "Traceback" not in stderr, stderr
        assert any(child.returncode == 0 for child in builds)
        assert all(site == whole for site in seen), "a reader saw a partial site/ during the builds"
        assert snapshot(project.site) == whole
        assert no_leftovers(project.root)


def test_failed_builds_leave_the_previous_site_byte_identical(project: Project) -> None:
    project.add_issue(1, "2026-11-02", "最初の号")
    project.build()
    before = snapshot(project.site)

    project.add_issue(2, "2026-11-09", "壊れた号", body="![図](img/missing.png)")
    with pytest.raises(Abort):
        project.build()
    assert snapshot(project.site) == before
    (project.root / "newsletter/2026/2.md").unlink()

    collision = project.write("docs/newsletter/index.md", "# 手で書いたページ\n")
    with pytest.raises(Abort):
        project.build()
    assert snapshot(project.site) == before
    collision.unlink()

    project.write("docs/extra.md", "# 追加\n\n[壊れたリンク](missing.md)\n")
    result = finished_build(project, "--strict")
    assert result.returncode != 0 and "ビルドを中止しました（strict: true のため、警告 1 件）" in result.stdout + result.stderr
    assert snapshot(project.site) == before
    assert no_leftovers(project.root)


def test_editing_a_file_in_site_never_reaches_the_cache_or_a_later_build(project: Project) -> None:
    folder = project.root / "videos" / "2026-11-02-clip"
    folder.mkdir(parents=True)
    mc.clip(folder / "clip.mp4", seconds=0.5)
    (folder / "index.md").write_text("---\ntitle: 短い動画\nsummary: 短い動画です。\ndate: 2026-11-02\nclip: clip.mp4\n---\n\n本文です。\n",
                                     encoding="utf-8")
    project.add_issue(1, "2026-11-02", "最初の号")
    project.build()
    cache = project.root / ".cache"
    cached = snapshot(cache)
    published = snapshot(project.site)
    edited = [project.site / name for name in published
              if name.startswith(("media/", "email/")) and name.endswith((".mp4", ".eml", ".html"))]
    assert any(path.suffix == ".mp4" for path in edited) and any(path.suffix == ".eml" for path in edited)
    for path in edited:
        with path.open("r+b") as file:
            file.write(b"edited in place")
    assert snapshot(cache) == cached
    project.build()
    assert snapshot(cache) == cached
    assert snapshot(project.site) == published
    project.build()
    assert snapshot(project.site) == published
    cache_inodes = {path.stat().st_ino for path in cache.rglob("*") if path.is_file()}
    assert not any(path.stat().st_ino in cache_inodes for path in project.site.rglob("*") if path.is_file())


def test_without_an_exchange_two_renames_still_leave_a_whole_site(tmp_path: Path) -> None:
    """The path taken where `renameat2` is missing: the new folder takes the name, the old tree goes."""
    final = tmp_path / "site"
    (final / "old.html").parent.mkdir()
    (final / "old.html").write_text("前の版")
    staging = sitedir.begin(final)
    (staging.folder / "new.html").write_text("新しい版")
    assert sitedir._swap_by_renames(staging)
    assert snapshot(final) == {"new.html": hashlib.sha256("新しい版".encode()).hexdigest()}
    assert no_leftovers(tmp_path)


def test_leftovers_of_dead_builds_go_and_a_running_build_keeps_its_folder(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    (tmp_path / f".site.tmp-{dead.stdout.strip()}-abc").mkdir()
    (tmp_path / f".site.old-{dead.stdout.strip()}-def").mkdir()
    running = tmp_path / f".site.tmp-{os.getppid()}-0123"
    running.mkdir()
    staging = sitedir.begin(tmp_path / "site")
    assert leftovers(tmp_path) == sorted([running.name, staging.folder.name])


@pytest.mark.parametrize("parent", ["公開", "改行\nのある名前"])  # `rm` from a shell; Python where a line end would cut the name
def test_the_earlier_tree_is_deleted_by_a_process_of_its_own_which_a_new_build_leaves_alone(tmp_path: Path,
                                                                                            parent: str) -> None:
    tmp_path = tmp_path / parent
    tmp_path.mkdir()
    final = tmp_path / "site"
    final.mkdir()
    (final / "index.html").write_text("公開中の版")
    earlier = tmp_path / ".site.tmp-1-abc"
    for number in range(300):
        (earlier / f"{number // 50}").mkdir(parents=True, exist_ok=True)
        (earlier / f"{number // 50}" / f"{number}.html").write_text("前の版")
    sitedir.delete_later(earlier, final)
    assert not earlier.exists()
    marked = leftovers(tmp_path)
    for name in marked:  # still being deleted: named after the deleting process, not this one
        assert name.startswith(".site.old-") and sitedir._owner(name.removeprefix(".site.old-")) != os.getpid()
    assert no_leftovers(tmp_path)
    assert snapshot(final) == {"index.html": hashlib.sha256("公開中の版".encode()).hexdigest()}
