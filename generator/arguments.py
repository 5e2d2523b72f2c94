"""argparse for `atlas` and `atlas bench`: a usage error is one line (``atlas: error: ...``, exit 2), like every
other mistake, and numeric options are checked where they are parsed, so a bad one never reaches the engine."""

from __future__ import annotations

import argparse
import math
import sys

from generator.errors import EXIT_USAGE


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line; its subparsers are Parsers too (argparse's default)."""

    def error(self, message: str):
        sub = self.prog.removeprefix("atlas").strip()
        hint = f" (see `atlas {sub + ' ' if sub else ''}--help`)"
        sys.stderr.write(f"atlas: error: {message}{hint}\n")
        sys.exit(EXIT_USAGE)


def integer(text: str, minimum: int | None = None) -> int:
    """An integer written in ASCII digits (int() would take '²' or '١'), at least ``minimum``."""
    body = text.strip().removeprefix("-")
    if not (body.isascii() and body.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    value = int(text)
    if minimum is not None and value < minimum:
        raise argparse.ArgumentTypeError(f"{value} must be >= {minimum}")
    return value


def positive(text: str) -> int:
    return integer(text, 1)


def non_negative(text: str) -> int:
    return integer(text, 0)


def part(text: str) -> tuple[int, int]:
    """K/N: part K of N, 0 <= K < N."""
    k, sep, n = text.partition("/")
    try:
        k, n = integer(k, 0), integer(n, 1)
    except argparse.ArgumentTypeError:
        sep = ""
    if not sep or k >= n:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N with 0 <= K < N (e.g. 0/2 and 1/2)")
    return k, n


def minutes(text: str) -> float:
    """A positive, finite number of minutes (a time budget)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of minutes > 0")
    return value
