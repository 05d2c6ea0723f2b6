"""What the email stage gives the build, in a module of its own: a site build makes the emails in another
process and reads this back without importing the renderer."""

from __future__ import annotations

from dataclasses import dataclass, field

from dayori.errors import ContentError, Problem
from dayori.model import Output


@dataclass
class EmailReport:
    """Outputs for the site, warnings for the log and, with `strict`, the same findings as problems."""

    outputs: list[Output] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ContentError(self.problems)
