"""`python -m dayori wheelhouse DIR`: every package Dayori runs on, as wheels for Windows and Linux, in one folder
that a PC on a closed network (or behind a proxy pip cannot pass) installs from with
`pip install --no-index --find-links DIR -r requirements.lock`.

Run where PyPI is reachable; copy the folder with the project. A package published only as source is built into a
wheel here, which must then be pure Python (one wheel for every platform); anything else is refused by name.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PYTHONS = ("3.11", "3.12", "3.13")
OLDEST_RELEASE = {"3.11": "3.11.5"}
"""The oldest release of a Python version that the lock installs on (pymdown-extensions needs 3.11.5): pip checks
each package's Requires-Python against it."""
_GLIBC = ("2_28", "2_27", "2_26", "2_24", "2_17", "2_12", "2_5")
PLATFORMS = {"windows": ("win_amd64",),
             "linux": (*(f"manylinux_{v}_x86_64" for v in _GLIBC), "manylinux2014_x86_64", "manylinux2010_x86_64",
                       "manylinux1_x86_64")}
"""Linux with glibc 2.28 or later (RHEL 8, Debian 10, Ubuntu 20.04 and newer); pip takes a given platform tag
literally, so every older manylinux tag such a system accepts is listed."""
SOURCE_SUFFIXES = (".tar.gz", ".zip")


class WheelhouseError(Exception):
    """The folder is not complete; the message names the package and what to do."""


@dataclass(frozen=True)
class Target:
    """One platform and Python version that editors' PCs or servers run; `current` is this interpreter."""

    system: str
    python: str = ""

    @property
    def label(self) -> str:
        return "この PC" if self.system == "current" else f"{self.system} Python {self.python}"

    def pip_options(self) -> list[str]:
        if self.system == "current":
            return []
        abi = "cp" + self.python.replace(".", "")
        options = [option for tag in PLATFORMS[self.system] for option in ("--platform", tag)]
        return [*options, "--python-version", OLDEST_RELEASE.get(self.python, self.python), "--implementation", "cp",
                "--abi", abi, "--abi", "abi3", "--abi", "none"]


DEFAULT_TARGETS = tuple(Target(system, python) for system in PLATFORMS for python in PYTHONS)


def target(text: str) -> Target:
    """`windows-3.12`, `linux-3.11` or `current`."""
    if text == "current":
        return Target("current")
    system, _, python = text.partition("-")
    if system not in PLATFORMS or python not in PYTHONS:
        choices = ", ".join(f"{s}-{p}" for s in PLATFORMS for p in PYTHONS)
        raise argparse.ArgumentTypeError(f"--target は {choices}、current のどれかです（今は「{text}」）")
    return Target(system, python)


def download_command(target: Target, requirements: list[Path], folder: Path) -> list[str]:
    """The lock files pin every package, so nothing is resolved (`--no-deps`): the same set for each platform."""
    files = [option for path in requirements for option in ("-r", str(path))]
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--prefer-binary", "--disable-pip-version-check",
            "--dest", str(folder), *target.pip_options(), *files]


def wheel_command(source: Path, folder: Path) -> list[str]:
    return [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
            "--wheel-dir", str(folder), str(source)]


def build_wheelhouse(folder: Path, requirements: list[Path], targets: tuple[Target, ...]) -> list[Path]:
    """Downloads for each target, then turns source-only packages into pure-Python wheels. Raises
    WheelhouseError when pip cannot get a package or a source package is not pure Python."""
    folder.mkdir(parents=True, exist_ok=True)
    for each in targets:
        print(f"{each.label} 用のファイルを集めています…", flush=True)
        if subprocess.run(download_command(each, requirements, folder), check=False).returncode != 0:
            raise WheelhouseError(f"{each.label} 用のファイルを集められませんでした（上の pip のメッセージを参照）。"
                                  "PyPI に接続できるか（プロキシの設定）、ロックファイルの版にその環境用のホイールがあるかを確かめてください。")
    for source in sorted(p for p in folder.iterdir() if p.name.endswith(SOURCE_SUFFIXES)):
        before = set(folder.glob("*.whl"))
        if subprocess.run(wheel_command(source, folder), check=False).returncode != 0:
            raise WheelhouseError(f"{source.name} からホイールを作れませんでした（上の pip のメッセージを参照）。")
        built = set(folder.glob("*.whl")) - before
        foreign = [w.name for w in built if not w.name.endswith("-none-any.whl")]
        if foreign:
            raise WheelhouseError(f"{source.name} はソースだけで配布されていて、この PC 専用のホイール（{', '.join(foreign)}）"
                                  "しか作れません。Windows でも使えるよう、ホイールのある版に替えてください。")
        source.unlink()
    return sorted(folder.iterdir())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, metavar="DIR", help="ファイルを集めるフォルダー（例: wheelhouse）")
    parser.add_argument("--target", type=target, action="append", metavar="SYSTEM-PYTHON",
                        help="集める対象（windows-3.12、linux-3.11、current など。繰り返し指定できます。"
                             "既定は Windows と Linux の Python 3.11〜3.13 すべて）")
    parser.add_argument("--dev", action="store_true", help="テスト用の道具（requirements-dev.lock）も集めます")
    parser.add_argument("-r", "--requirements", type=Path, action="append", metavar="FILE",
                        help="ロックファイル（既定 requirements.lock）")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    requirements = list(args.requirements or [Path("requirements-dev.lock" if args.dev else "requirements.lock")])
    missing = [str(path) for path in requirements if not path.is_file()]
    if missing:
        print(f"{', '.join(missing)} が見つかりません。プロジェクトのフォルダーで実行してください。", file=sys.stderr)
        return 2
    try:
        files = build_wheelhouse(args.folder, requirements, tuple(args.target or DEFAULT_TARGETS))
    except WheelhouseError as error:
        print(str(error), file=sys.stderr)
        return 1
    names = " ".join(f"-r {path}" for path in requirements)
    print(f"{args.folder} に {len(files)} 個のファイルを集めました。インターネットに出られない PC では、このフォルダーを"
          f"作業用フォルダーに置いて次のように入れます:\n"
          f"  python -m pip install --no-index --find-links {args.folder} {names}\n"
          f"  python -m pip install --no-index --find-links {args.folder} --no-deps -e .")
    return 0
