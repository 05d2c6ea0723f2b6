"""Dayori: one build turns the team's Markdown into the staff site, feeds and email."""
