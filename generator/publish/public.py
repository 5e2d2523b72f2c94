"""What may appear in a published page: text without this machine's details.

A store records what happened where it ran: an error may quote a file's absolute path, and a store from an older
version records why its model fell back with the weights cache's path in it. Pages are public, so the publish side
shows such text through ``public_text`` (absolute paths cut to their last part, this machine's name replaced) and a
model's fallback reason as one fixed phrase. No torch here.
"""

from __future__ import annotations

import re
import socket

# The reason every fallback has (the engine records the same words: engine/models.py FALLBACK_REASON).
OFFLINE_REASON = "weights not available offline"
# an absolute POSIX path (not a URL's path: no word, ':' or '/' before it), ~/..., or a Windows drive path
LOCAL_PATH = re.compile(r"(?<![\w.:/~-])(?:~|[A-Za-z]:\\|/)[^\s'\"<>()\[\]{},;|]+")


def host_names() -> set[str]:
    names = {socket.gethostname(), socket.getfqdn()}
    return {n for n in names if n and n not in ("localhost", "localhost.localdomain")}


def public_text(text) -> str:
    """``text`` with every absolute local path cut to …/its last part and this machine's name replaced."""
    def cut(m: re.Match) -> str:
        last = re.split(r"[\\/]", m.group(0).rstrip("/\\"))[-1]
        return f"…/{last}" if last and last != "~" else "…"

    out = LOCAL_PATH.sub(cut, str(text))
    for name in host_names():
        out = re.sub(rf"\b{re.escape(name)}\b", "this machine", out)
    return out


def public_model(model) -> dict:
    """A model identity (manifest or meta.json) as a page may show it."""
    if not isinstance(model, dict):
        return {}
    if model.get("fallback_reason"):
        return {**model, "fallback_reason": OFFLINE_REASON}
    return model
