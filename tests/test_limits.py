"""Limits instead of exhaustion: each editor file beyond a limit is refused before the work it would cause,
and a build of files right at the limits stays under 200 MB, measured on the build's own process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from conftest import TODAY, Project
from dayori.config import LimitSettings

PEAK_MIB = 200


_MEASURED_BUILD = """
import runpy, sys
report_path, sys.argv = sys.argv[1], ["mkdocs", "build", "-q"]
try:
    runpy.run_module("mkdocs", run_name="__main__")
    code = 0
except SystemExit as stop:
    code = stop.code if isinstance(stop.code, int) else 1
with open("/proc/self/status", encoding="ascii") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
with open(report_path, "w", encoding="ascii") as report:
    report.write(peak)
sys.exit(code)
"""


def peak_build(project: Project) -> tuple[int, float, str]:
    """`mkdocs build` in a child process: its exit status, its peak resident memory in MiB and what it printed.
    The peak is the kernel's high-water mark of the build's own memory (VmHWM, counted from `exec`): the
    child's rusage would also count the moments before `exec`, when it is still a copy of the test worker."""
    env = {**os.environ, "DAYORI_TODAY": TODAY, "NO_COLOR": "1"}
    report = project.root.parent / "peak.txt"
    result = subprocess.run([sys.executable, "-c", _MEASURED_BUILD, str(report)], cwd=project.root, env=env,
                            capture_output=True, text=True, timeout=600)
    return result.returncode, int(report.read_text(encoding="ascii")) / 1024, result.stdout + result.stderr


def picture_at_the_limit(path: Path) -> Path:
    """As many pixels as the limit allows, with transparency (4 bytes a pixel decoded) and noise (a file as
    large as such a picture gets): the worst a picture within the limit can ask of the email stage."""
    side = int(LimitSettings.picture_pixels ** 0.5)
    noise = Image.frombytes("RGBA", (side, side), os.urandom(side * side * 4))
    noise.save(path, "PNG", compress_level=1)
    return path


def body_at_the_limit() -> str:
    """Nearly `markdown_bytes` of what makes Markdown work: nested lists, tables, links, emphasis, headings."""
    depth = 6
    unit = ("## 手順の見出し\n\n**業務**の*効率化*について [資料](https://example.go.jp/a) を確認します。\n\n"
            + "".join("    " * level + f"- 項目 {level}\n" for level in range(depth))
            + "\n| 項目 | 内容 |\n| --- | --- |\n| 申請 | 承認の手順を確認します。 |\n\n")
    return unit * ((LimitSettings.markdown_bytes - 2_000) // len(unit.encode()))


def test_a_build_of_files_at_the_limits_stays_under_200_mb(project: Project) -> None:
    folder = project.root / "newsletter" / "2026" / "img"
    folder.mkdir(parents=True)
    config = project.root / "mkdocs.yml"  # the file-size cap of the gate raised: the pixel cap is the one tested
    config.write_text(config.read_text(encoding="utf-8").replace(
        "    limits:\n", "    size_limits:\n      image: 100000000\n    limits:\n", 1), encoding="utf-8")
    picture = picture_at_the_limit(folder / "大きな図.png")
    assert picture.stat().st_size > 40_000_000
    project.add_issue(1, "2026-11-20", "大きな画像の号", "![大きな図](img/大きな図.png)",
                      tags=[f"タグ{index:02d}" + "あ" * (LimitSettings.tag_chars - 5) for index in range(LimitSettings.tags)])
    text = body_at_the_limit()
    project.add_issue(2, "2026-11-21", "長い号", text)
    assert len((project.root / "newsletter/2026/2.md").read_bytes()) <= LimitSettings.markdown_bytes
    status, peak, output = peak_build(project)
    assert status == 0, output
    assert (project.site / "newsletter" / "2" / "index.html").is_file()
    assert peak < PEAK_MIB, f"peak {peak:.0f} MiB"


def test_files_beyond_the_limits_are_refused_before_the_work(project: Project) -> None:
    """Each refusal names the file (and line) and the setting that would allow it, in Japanese."""
    project.write("newsletter/2026/img/big.png", _bomb(40_000, 40_000))
    project.add_issue(1, "2026-11-20", "画像", "本文\n\n![図](img/big.png)")
    project.add_issue(2, "2026-11-20", "入れ子", "".join("    " * i + "- x\n" for i in range(600)))
    project.add_issue(3, "2026-11-20", "タグ", tags=[f"t{i}" for i in range(10_000)])
    project.write("newsletter/2026/4.md", "---\nvol: 4\n" + "x" * 4_400_000)
    project.add_issue(5, "2026-11-20", "かっこ", "[" * 6_000)
    project.add_issue(6, "2026-11-20", "長いタグ", tags=["業務改善" * 10])
    result = project.run_build()
    output = result.stdout + result.stderr
    assert result.returncode == 1
    for expected in (
            "newsletter/2026/1.md:11: 画像「big.png」が大きすぎます（40,000×40,000 ピクセル、16億画素です。上限は 1,600万画素）",
            "newsletter/2026/2.md:", "重に入れ子になっています（上限は 20 重）",
            "newsletter/2026/3.md:6: タグが 10000 個あります（上限は 20 個）",
            "newsletter/2026/4.md: ファイルが大きすぎます（4.4 MB。上限は 200 KB）",
            "newsletter/2026/5.md:9: この行で箇条書き・引用・HTML の要素・かっこ「[」が 6000 重に入れ子になっています",
            "newsletter/2026/6.md:6: タグ「業務改善業務改善業務改善業務改善業務改善…」が 40 文字あります（上限は 30 文字）",
            "ビルドを中止しました（6 件の問題）"):
        assert expected in output, f"missing: {expected}\n{output}"
    assert "Traceback" not in output and "DecompressionBomb" not in output and "RecursionError" not in output
    check = subprocess.run([sys.executable, "-m", "dayori", "check"], cwd=project.root, capture_output=True,
                           text=True, timeout=300, env={**os.environ, "DAYORI_TODAY": TODAY})
    assert "Traceback" not in check.stderr and check.returncode == 1, check.stderr
    assert "newsletter/2026/4.md:1:1: ファイル: ファイルが大きすぎます" in check.stdout, check.stdout
    assert "newsletter/2026/2.md:" in check.stdout and "重に入れ子になっています" in check.stdout


def test_a_limit_is_a_setting(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "タグの多い号", tags=["a", "b", "c"])
    project.set_limit("tags", 2)
    result = project.run_build()
    assert result.returncode == 1 and "タグが 3 個あります（上限は 2 個）" in result.stderr, result.stderr
    project.set_limit("tags", 3)
    assert project.run_build().returncode == 0
    project.set_limit("tags", 0)
    result = project.run_build()
    assert result.returncode == 1 and "extra.dayori.limits.tags は 1 以上の整数で書いてください" in result.stdout + result.stderr


def _bomb(width: int, height: int) -> bytes:
    import io
    import struct
    import zlib

    out = io.BytesIO()
    Image.new("RGB", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_a_pdf_beside_the_pictures_is_measured_without_loading_every_picture_format(tmp_path: Path) -> None:
    """A body's PDF is no picture: known by its first bytes, it costs the build none of Pillow's forty plugins
    (imported to try each on it), while a picture is still measured."""
    Image.new("RGB", (3, 2)).save(tmp_path / "picture.png")
    script = ("import io, sys; from pathlib import Path; from dayori.limits import picture_size; "
              "pdf = picture_size(io.BytesIO(b'%PDF-1.7\\n' + bytes(4000))); "
              f"png = picture_size(Path({str(tmp_path / 'picture.png')!r}).open('rb')); "
              "print(pdf, png, 'PIL.TgaImagePlugin' in sys.modules)")
    answer = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert answer.stdout.split() == ["None", "(3,", "2)", "False"]
