"""The page a preview shows at every address while the content has mistakes: every problem with its file,
line and fix, in Japanese. It reloads itself once a newer build exists, so an editor who fixes a file sees
the fixed page without touching the browser. Builder-neutral: the builder decides where it is written."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from dayori import csp
from dayori.errors import Problem

# Written beside the error page with the build's id; the page polls it and reloads when it changes (or is
# gone, after a good build).
BUILD_ID_FILE = "dayori-preview-build.txt"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #fff; line-height: 1.7; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem; }
h1 { font-size: 1.5rem; color: #b00020; margin: 0 0 .5rem; }
ol { padding-left: 1.5rem; }
li { margin: 0 0 1rem; }
code { font-family: ui-monospace, monospace; background: #f2f2f2; padding: .1rem .3rem; border-radius: 3px; }
.note { color: #444; }
"""

_SCRIPT = """
(function () {
  var id = %s, url = %s;
  function poll() {
    fetch(url, {cache: "no-store"}).then(function (response) { return response.text(); })
      .then(function (text) { if (text.trim() !== id) { location.reload(); } else { setTimeout(poll, 1000); } })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
"""


@dataclass(frozen=True)
class ErrorPage:
    """What a failed preview build publishes: the page and the id the page watches."""

    html: str
    build_id: str


def error_page(problems: list[Problem] | list[str], build_id: str, site_path: str) -> ErrorPage:
    """`problems` are an editor's mistakes, or a builder's messages when the failure was elsewhere;
    `site_path` is where the preview serves the site (`/dayori/`)."""
    items = "\n".join(f"<li>{_item(problem)}</li>" for problem in problems)
    script = _SCRIPT % (json.dumps(build_id), json.dumps(site_path.rstrip("/") + "/" + BUILD_ID_FILE))
    script = script.replace("</", "<\\/")
    page = f"""<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>プレビューを作れませんでした（{len(problems)} 件の問題）</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>プレビューを作れませんでした</h1>
<p>入力に {len(problems)} 件の問題があります。下のファイルを直して保存すると、このページは自動で更新されます。</p>
<ol>
{items}
</ol>
<p class="note">同じ一覧は <code>make serve</code> を動かしているターミナルにも出ています。</p>
</main>
<script>{script}</script>
</body>
</html>
"""
    return ErrorPage(csp.with_policy(page, scripts=[f"{script}"], styles=[_STYLE]), build_id)


def _item(problem: Problem | str) -> str:
    if isinstance(problem, str):
        return f"<pre>{html.escape(problem)}</pre>"
    where = f"{problem.path}:{problem.line}" if problem.line else str(problem.path)
    return f"<code>{html.escape(where)}</code><br>{html.escape(problem.message)}"


LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a request's `Host` names this computer and the preview's port. A page on another site that
    makes its own name point at 127.0.0.1 (DNS rebinding) sends its own name, and is refused: otherwise it
    could read drafts and the error page through the editor's browser."""
    if not host:
        return False
    host = host.strip().lower()
    return host in {f"{name}:{port}" for name in LOCAL_NAMES} or (port == 80 and host in LOCAL_NAMES)


def forbidden_page(port: int) -> bytes:
    """What any other `Host` gets (403)."""
    page = (f'<!doctype html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n<meta name="robots" content="noindex">\n'
            f"<title>このアドレスでは開けません</title>\n</head>\n<body>\n<h1>このアドレスでは開けません</h1>\n"
            f"<p>プレビューは、このパソコンから http://localhost:{port}/ または http://127.0.0.1:{port}/ で開いてください。"
            f"</p>\n</body>\n</html>\n")
    return csp.with_policy(page).encode("utf-8")
