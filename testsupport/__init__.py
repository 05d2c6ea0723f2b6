"""What the tests and the benchmarks (`benchmarks/`) share, and the product never imports: the synthetic archive
of issues, the local SMTP, Exchange-like and OAuth servers, the static web server that behaves like the guide's
nginx and IIS settings, the slow-link page load in Chromium, and the proofreading corpus's scorer.

It is a plain package beside `src/`: `python -m benchmarks` and `python -m pytest` run from the repository's root,
which puts the root on the import path (pytest's `pythonpath = ["."]` says so for plain `pytest` too)."""
