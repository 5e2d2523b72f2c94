"""What the built site weighs: in total, per top-level folder, the largest page of each kind, the home page and
the search index (raw and gzipped: GitHub Pages sends HTML and JS compressed)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

from generator.publish.layout import HOME, SEARCH_INDEX


@dataclass(frozen=True)
class PageSize:
    path: str
    bytes: int


@dataclass
class SiteSizes:
    total_bytes: int = 0  # apparent: what a Pages upload carries
    disk_bytes: int = 0  # each hard-linked file once (site media are links into the store)
    files: int = 0
    by_folder: dict[str, int] = field(default_factory=dict)  # "classes", "media", ... and "(top level)"
    pages: int = 0
    largest_page_by_kind: dict[str, PageSize] = field(default_factory=dict)
    home_html_bytes: int | None = None
    home_html_gzip_bytes: int | None = None
    search_index_bytes: int | None = None
    search_index_gzip_bytes: int | None = None
    page_bytes: dict[str, int] = field(default_factory=dict)  # every page's size (kept out of the report)

    def pages_over(self, limit: int, except_kinds=("home",)) -> list[PageSize]:
        """Pages heavier than ``limit`` bytes (the home page excepted), largest first."""
        over = [PageSize(rel, size) for rel, size in self.page_bytes.items()
                if size > limit and page_kind(rel) not in except_kinds]
        return sorted(over, key=lambda p: (-p.bytes, p.path))

    def to_dict(self) -> dict:
        return {"total_bytes": self.total_bytes, "disk_bytes": self.disk_bytes, "files": self.files,
                "by_folder": self.by_folder, "pages": self.pages,
                "largest_page_by_kind": {k: {"path": p.path, "bytes": p.bytes}
                                         for k, p in self.largest_page_by_kind.items()},
                "home_html_bytes": self.home_html_bytes, "home_html_gzip_bytes": self.home_html_gzip_bytes,
                "search_index_bytes": self.search_index_bytes,
                "search_index_gzip_bytes": self.search_index_gzip_bytes}


def page_kind(rel: str) -> str:
    """A page's kind: "home" for index.html, the folder for a nested page (classes, channels, layers, the blog's
    folder), else the page's own name (recipe, about, random)."""
    if rel == HOME:
        return "home"
    folder, sep, _ = rel.partition("/")
    return folder if sep else rel.removesuffix(".html")


def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


def measure_sizes(site: Path, files: set[str]) -> SiteSizes:
    """``files``: the site's file paths (links.site_files). Sizes are apparent sizes, as Pages uploads them: media
    hard-linked to the store count in full."""
    sizes, inodes = SiteSizes(), set()
    for rel in sorted(files):
        stat = (site / rel).stat()
        size = stat.st_size
        sizes.total_bytes += size
        if (stat.st_dev, stat.st_ino) not in inodes:
            inodes.add((stat.st_dev, stat.st_ino))
            sizes.disk_bytes += size
        sizes.files += 1
        folder, sep, _ = rel.partition("/")
        key = folder if sep else "(top level)"
        sizes.by_folder[key] = sizes.by_folder.get(key, 0) + size
        if rel.endswith(".html"):
            sizes.pages += 1
            sizes.page_bytes[rel] = size
            kind = page_kind(rel)
            largest = sizes.largest_page_by_kind.get(kind)
            if largest is None or size > largest.bytes:
                sizes.largest_page_by_kind[kind] = PageSize(rel, size)
    sizes.by_folder = dict(sorted(sizes.by_folder.items(), key=lambda kv: -kv[1]))
    if HOME in files:
        sizes.home_html_bytes = (site / HOME).stat().st_size
        sizes.home_html_gzip_bytes = gzip_size(site / HOME)
    if SEARCH_INDEX in files:
        sizes.search_index_bytes = (site / SEARCH_INDEX).stat().st_size
        sizes.search_index_gzip_bytes = gzip_size(site / SEARCH_INDEX)
    return sizes

