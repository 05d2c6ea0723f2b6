"""Everything that knows MkDocs or Material for MkDocs: the event adapter, the search integration, the theme
template, scripts and stylesheet. No other part of `dayori` imports this package, `mkdocs` or `material`, except the command line
(`dayori.__main__`), whose `site` and `serve` commands import `site` and `serve` from here when they run.

What it takes from MkDocs and Material beyond their documented API lives in `internals` alone; `builder` lets
ProperDocs stand in for MkDocs."""

from dayori.material import builder  # noqa: F401  (before any `mkdocs` import: see `builder`)
