"""`make serve`: MkDocs' preview server on a port the editor can choose, with a Japanese hint instead of a
traceback when that port is taken (usually by a `make serve` left running in another window)."""

from __future__ import annotations

import argparse
import errno
import socket
import sys

from mkdocs.__main__ import cli


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on `port`, in Japanese, or None when it can. Checked before the
    first build so that the editor does not wait for a build only to read a traceback."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as MkDocs' server binds
        try:
            probe.bind((host, port))
        except OSError as error:
            return busy_message(port, error)
    return None


def busy_message(port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        cause = "ほかのプログラムが使っています（前に起動した make serve が動いたままかもしれません）。"
    else:
        cause = f"開けません（{error.strerror}）。"
    other = port + 1 if port < 65535 else 8001
    return (f"プレビューを始められません：ポート {port} は{cause}\n"
            f"  - 前の make serve を止める：そのウィンドウで Ctrl+C を押します。\n"
            f"  - 別の番号で始める：make serve PORT={other}"
            f"（make のない Windows では python -m dayori serve --port {other}）\n"
            f"    （ブラウザーでは http://127.0.0.1:{other}/ を開きます）")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make serve", description="プレビュー用のサーバーを起動します。")
    parser.add_argument("--port", type=int, default=8000, help="待ち受けるポート番号（既定 8000）")
    parser.add_argument("--host", default="127.0.0.1", help="待ち受けるアドレス（既定 127.0.0.1）")
    args, rest = parser.parse_known_args(argv)
    problem = port_problem(args.host, args.port)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    try:
        # `--dirty`: a rebuild rewrites only the pages that changed (see `_plan_rewrites` in the adapter).
        cli.main(["serve", "--dirty", "--dev-addr", f"{args.host}:{args.port}", *rest], prog_name="mkdocs")
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        print(busy_message(args.port, error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
