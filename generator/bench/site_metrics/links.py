"""The link check: every internal href/src/poster/srcset in every HTML page must name a file of the site.

URLs are resolved the way a browser resolves them against the page, relative to the site's root; external ones
(a scheme or //host), mailto:, data: and pure #fragments are not files and are skipped. A root-absolute URL
("/media/x.jpg") is reported as broken: under a project sub-path (/feature-atlas/) it points outside the site."""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# the elements and attributes that fetch or navigate to a file
LINK_ATTRS = {
    "a": ("href",), "img": ("src", "srcset"), "video": ("src", "poster"), "link": ("href",),
    "script": ("src",), "source": ("src", "srcset"), "audio": ("src",), "track": ("src",), "iframe": ("src",),
}


@dataclass(frozen=True)
class Reference:
    page: str  # the page's path in the site, e.g. classes/008.html
    tag: str
    attr: str
    url: str


@dataclass(frozen=True)
class BrokenLink:
    page: str
    tag: str
    attr: str
    url: str
    resolved: str  # the site path it named, or why it cannot be one


@dataclass
class LinkCheck:
    pages: int = 0
    checked: int = 0  # internal references resolved against the file list
    skipped: int = 0  # external, mailto:, data: and #fragment-only references
    broken: list[BrokenLink] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"pages": self.pages, "checked": self.checked, "skipped": self.skipped,
                "broken_count": len(self.broken), "broken": [asdict(b) for b in self.broken]}


class _References(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.found: list[Reference] = []

    def handle_starttag(self, tag, attrs):
        wanted = LINK_ATTRS.get(tag, ())
        for name, value in attrs:
            if name not in wanted or value is None:
                continue
            urls = srcset_urls(value) if name == "srcset" else [value.strip()]
            self.found += [Reference(self.page, tag, name, u) for u in urls if u]

    handle_startendtag = handle_starttag


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset ("a.jpg 1x, b.jpg 2x")."""
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


def page_references(page: str, html: str) -> list[Reference]:
    parser = _References(page)
    parser.feed(html)
    parser.close()
    return parser.found


def is_internal(url: str) -> bool:
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc or url.startswith("//")) and bool(parts.path)


def resolve(page: str, url: str) -> str | None:
    """The site path ``url`` names from ``page`` (a folder URL names its index.html); None when it leaves the site
    or is root-absolute."""
    path = unquote(urlsplit(url).path)
    if path.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    if joined == ".." or joined.startswith("../"):
        return None
    if path.endswith("/") or joined == ".":
        joined = posixpath.join("" if joined == "." else joined, "index.html")
    return joined


def site_files(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}


def check_links(site: Path, files: set[str] | None = None) -> LinkCheck:
    """Every internal reference of every HTML page under ``site``, checked against the site's files."""
    files = site_files(site) if files is None else files
    result = LinkCheck()
    for page in sorted(f for f in files if f.endswith(".html")):
        result.pages += 1
        html = (site / page).read_text(encoding="utf-8", errors="replace")
        for ref in page_references(page, html):
            if not is_internal(ref.url):
                result.skipped += 1
                continue
            result.checked += 1
            target = resolve(page, ref.url)
            if target is None:
                why = "root-absolute (breaks under a sub-path)" if ref.url.startswith("/") else "outside the site"
                result.broken.append(BrokenLink(page, ref.tag, ref.attr, ref.url, why))
            elif target not in files:
                result.broken.append(BrokenLink(page, ref.tag, ref.attr, ref.url, target))
    return result
