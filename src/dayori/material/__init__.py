"""Everything that knows MkDocs or Material for MkDocs: the event adapter, the search integration, the theme
template, scripts and stylesheet. No other part of `dayori` imports this package, `mkdocs` or `material`, except the command line
(`dayori.__main__`), whose `site` and `serve` commands import `site` and `serve` from here when they run."""
