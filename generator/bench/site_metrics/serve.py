"""The site over HTTP on localhost under a project sub-path, as GitHub Pages serves a project site
(https://USER.github.io/feature-atlas/): a URL that escapes the sub-path gets a 404, as it would there."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

DEFAULT_PREFIX = "/feature-atlas/"


class SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """Serves ``directory`` at ``prefix`` only; quiet (a thousand thumbnails would flood stderr)."""

    def __init__(self, *args, prefix: str, **kwargs):
        self.prefix = prefix
        super().__init__(*args, **kwargs)

    def translate_path(self, path):
        p = unquote(urlsplit(path).path)
        if not p.startswith(self.prefix):
            return str(Path(self.directory) / "__outside_the_project_path__")
        return super().translate_path("/" + p[len(self.prefix):])

    def log_message(self, fmt, *args):
        pass


def normal_prefix(prefix: str) -> str:
    """"feature-atlas" -> "/feature-atlas/"; "/" stays."""
    inner = prefix.strip("/")
    return f"/{inner}/" if inner else "/"


@contextlib.contextmanager
def serve_site(site: Path, prefix: str = DEFAULT_PREFIX) -> Iterator[str]:
    """Yields the site's base URL, e.g. http://127.0.0.1:PORT/feature-atlas/; port 0: any free one."""
    prefix = normal_prefix(prefix)
    handler = functools.partial(SubPathHandler, prefix=prefix, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True  # the browser keeps connections open; do not wait for them on shutdown
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
