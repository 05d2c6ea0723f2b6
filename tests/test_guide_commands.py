"""Every command the editors' guide shows, as an editor would type it: the Linux form is run for real in a copy of
the project (with a real SMTP server and a local webhook playing Teams); a Windows form is translated to it. What
cannot run here (a long-running preview, a download of every wheel, Windows' own tools) is checked to name a
command, option, file or Makefile target that exists."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import docx

from conftest import ROOT, Project
from dayori.__main__ import parser
from testsupport.smtp_server import SmtpServer
from testsupport.webhook_server import Webhook

GUIDE = ROOT / "docs" / "guide.md"
PREFIXES = ("make ", ".venv\\Scripts\\", ".venv/bin/", "py -m ", "python -m ", "git ", "$env:", "schtasks ",
            "export ", "5 * * * * ")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True)
class Shown:
    text: str
    whole: bool
    """A command to type as it is (a code block's line, or the full Windows form in a sentence or a table), not a
    command named inside a sentence (`python -m dayori send`)."""


def shown_commands(guide: str) -> list[Shown]:
    commands = []
    for _, block in FENCE.findall(guide):
        for line in block.splitlines():
            if line.startswith(PREFIXES):
                commands.append(Shown(re.sub(r"\s+#\s.*$", "", line).strip(), True))
    for line in FENCE.sub("", guide).splitlines():
        in_table = line.startswith("|")  # a table maps a make target to its command; options are in the text
        commands += [Shown(code, not in_table and code.startswith((".venv\\Scripts\\", ".venv/bin/")))
                     for code in INLINE.findall(line) if code.startswith(PREFIXES)]
    return commands


def linux_form(command: str) -> str:
    """`.venv\\Scripts\\python -m dayori …` as Linux types it; Windows paths in the arguments with `/`."""
    command = re.sub(r"^(?:[A-Z]:\\[^ ]*\\)?\.venv\\Scripts\\python(?:\.exe)?", ".venv/bin/python", command)
    command = re.sub(r"^py -m ", "python3 -m ", command)
    return command.replace("\\", "/")


def dayori_argv(command: str) -> list[str] | None:
    """The arguments after `python -m dayori`, or None for another command."""
    match = re.match(r"^(?:\.venv/bin/python|python) -m dayori(?: (.*))?$", command)
    if match is None or match.group(1) == "…":  # "python -m dayori …": the form of every command
        return None
    return shlex.split(match.group(1) or "")


PLACEHOLDERS = {"自分のアドレス": "me@example.go.jp", "号数": "12", "フォルダー名": "2026-10-16-outlook-rules",
                "ファイル…": "bounce.eml", "アドレス": "taro@example.go.jp"}


def concrete(argv: list[str], root: Path) -> list[str]:
    """Placeholders as the editor fills them in; folders outside the project moved into the test's folder."""
    out = []
    for arg in argv:
        arg = PLACEHOLDERS.get(arg, arg)
        if arg.startswith("C:/dayori/"):
            arg = str(root / arg.removeprefix("C:/dayori/"))
        for outside in ("/var/www/", "/srv/", "C:/", "D:/"):
            if arg.startswith(outside):
                arg = str(root.parent / "outside" / arg.removeprefix(outside).lstrip("/"))
        out.append(arg)
    return out


def test_the_guide_shows_every_command_in_its_windows_or_linux_form() -> None:
    commands = [linux_form(c.text) for c in shown_commands(GUIDE.read_text(encoding="utf-8"))]
    names = {argv[0] for c in commands if (argv := dayori_argv(c))}
    assert names >= {"new-issue", "serve", "check", "site", "send", "announce", "publish", "wheelhouse", "suppress",
                     "bounces"}, names
    assert not any(re.match(r"^python -m dayori \w", c.text) for c in shown_commands(GUIDE.read_text(encoding="utf-8"))
                   if c.whole), "a code block must show the form that runs on Windows: .venv\\Scripts\\python -m dayori"


def _options(name: str) -> set[str]:
    """Every option of a command and of its own subcommands (`suppress add`)."""
    def collect(command: argparse.ArgumentParser) -> set[str]:
        found: set[str] = set()
        for action in command._actions:
            found |= set(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    found |= collect(child)
        return found

    [commands] = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return collect(commands.choices[name])


def test_commands_named_in_sentences_exist_with_their_options() -> None:
    for shown in shown_commands(GUIDE.read_text(encoding="utf-8")):
        argv = dayori_argv(linux_form(shown.text))
        if shown.whole or not argv:
            continue
        assert argv[0] in {"site", "serve", "check", "new-issue", "send", "announce", "publish", "suppress", "bounces",
                           "wheelhouse", "--help"}, shown.text
        unknown = [a for a in argv if a.startswith("--") and a not in _options(argv[0])]
        assert not unknown, shown.text


def test_make_targets_and_files_the_guide_names_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, re.MULTILINE))
    for shown in shown_commands(GUIDE.read_text(encoding="utf-8")):
        command = linux_form(shown.text)
        if command.startswith("make "):
            assert command.split()[1] in targets, command
        for requirement in re.findall(r"-r (\S+)", command):
            assert (ROOT / requirement).is_file(), command
        for variable in re.findall(r"(?:\$env:|export |^|\s)([A-Z][A-Z_]+)\s*=", command):
            assert variable in {"HTTPS_PROXY", "HTTP_PROXY"} or any(
                variable in path.read_text(encoding="utf-8") for path in (ROOT / "src").rglob("*.py")), command


def _scheduled(command: str) -> str | None:
    """The command a Task Scheduler entry or a cron line runs."""
    task = re.search(r'/TR "([^"]+)"', command)
    if task:
        return re.sub(r"^\S*\.venv/Scripts/python(?:\.exe)?", ".venv/bin/python", task.group(1))
    if command.startswith("5 * * * * cd "):
        return command.split(" && ", 1)[1].split(" >>")[0]
    return None


def test_every_command_of_the_guide_runs(project: Project, tmp_path: Path, webhook: Webhook) -> None:
    project.add_issue(11, "2026-11-13", "先週の号", "先週のコツです。")
    project.add_issue(12, "2026-11-20", "今週の号", "今週のコツです。")
    project.write("購読者リスト.csv", "メールアドレス,氏名\nstaff01@example.go.jp,職員1\nstaff02@example.go.jp,職員2\n")
    project.write("bounce.eml", "From: a@example.go.jp\nTo: b@example.go.jp\nSubject: hello\n\nhello\n")
    answer = docx.Document()
    answer.add_paragraph("ご質問の件について、次のとおり回答します。")
    answer.save(str(project.root / "答弁案.docx"))
    project.write("メモ.txt", "会議は午後三時からです。\n")
    private = tmp_path / "outside" / "dayori-private" / "購読者リスト.csv"
    private.parent.mkdir(parents=True)
    private.write_bytes((project.root / "購読者リスト.csv").read_bytes())
    global_config = tmp_path / "gitconfig"
    ran: list[str] = []
    with SmtpServer() as smtp:
        env = {**os.environ, **smtp.env(), "DAYORI_TODAY": "2026-11-26", "DAYORI_TEAMS_WEBHOOK": webhook.url,
               "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "GIT_CONFIG_GLOBAL": str(global_config)}
        for shown in shown_commands(GUIDE.read_text(encoding="utf-8")):
            command = linux_form(shown.text)
            command = _scheduled(command) or command
            if command.startswith("git config --global"):
                result = subprocess.run(shlex.split(command), env=env, capture_output=True, text=True, timeout=60)
                assert result.returncode == 0, result.stderr
                ran.append(command)
                continue
            argv = dayori_argv(command)
            if argv is None or not shown.whole:
                continue
            argv = concrete(argv, project.root)
            if "--help" in argv:
                assert _dayori(project, env, argv).returncode == 0, command
                ran.append(command)
                continue
            args = parser().parse_args(argv)  # every shown form is one the command accepts
            if argv[0] in {"serve", "wheelhouse"}:
                continue  # a server that runs until Ctrl+C, a download of ~350 MB: see test_preview, test_wheelhouse
            if argv[0] == "publish" and args.rollback:
                project.add_issue(12, "2026-11-20", "今週の号（訂正）", "今週のコツです。")
                redeploy = [a for a in argv if a != "--rollback"][1:]
                _dayori(project, env, ["publish", "--no-mail", *redeploy])
            result = _dayori(project, env, argv)
            allowed = {0, 1} if argv[0] == "check" else {0}
            assert result.returncode in allowed, f"{command}\n{result.stdout}\n{result.stderr}"
            assert "Traceback" not in result.stderr, command
            ran.append(command)
    assert "山田 花子" in global_config.read_text(encoding="utf-8")
    mailed = smtp.recorder.count_by_recipient()
    assert mailed["staff01@example.go.jp"] == 1 and mailed["staff02@example.go.jp"] == 1, mailed
    assert mailed["me@example.go.jp"] >= 1 and len(webhook.bodies) == 1
    assert len(ran) >= 15, ran


def _dayori(project: Project, env: dict[str, str], argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dayori", *argv], cwd=project.root, env=env, capture_output=True,
                          text=True, timeout=600)
