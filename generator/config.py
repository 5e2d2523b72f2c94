"""Load and validate content/atlas.toml into dataclasses; every mistake is one line with file:line."""

from __future__ import annotations

import ast

from generator.errors import AtlasError


def parse_knob(key: str, text: str):
    """A CLI knob value: a Python/TOML-ish literal (0.05, 8, true, [0.9, 1.1]) or a bare word."""
    lowered = {"true": "True", "false": "False"}.get(text.lower(), text)
    try:
        return ast.literal_eval(lowered)
    except (ValueError, SyntaxError):
        return text
