"""Pages from templates: where the templates and the prose come from, and ``Site``, which renders pages and
collects every output file (relative path -> bytes, or a store file to link) for publish.py to write.

Templates: ``./templates`` when the current folder has one (the project's, where users edit them), else the
copy that ships inside the package (``generator/_templates``: pyproject.toml maps the project's top-level
``templates/`` there in every wheel), else, in an editable install, the checkout's ``templates/``.
Prose (``content/*.md``): ``./content``, else an editable install's checkout's; a wheel ships none. Prose goes
through Jinja in a sandbox (jinja2.sandbox), since content can come from anyone who can open a pull request, and
the build that renders it may hold deploy rights: ``{{ counts.done }}`` works, reaching Python's internals
(``{{ lipsum.__globals__ }}``) is an error.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
import markdown
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from generator.errors import AtlasError
from generator.publish.layout import static_path
from generator.publish.published import Published
from generator.publish.site.filters import FILTERS, attr, fmt_knob, markup

PACKAGED_TEMPLATES = Path(__file__).resolve().parents[2] / "_templates"
DISTRIBUTION = "feature-atlas"


def in_checkout(name: str) -> Path | None:
    """``name`` in the source folder of an editable install (pip install -e .), found by its PEP 610 record."""
    for dist in importlib.metadata.distributions(name=DISTRIBUTION):  # a checkout's egg-info may come first
        try:
            info = json.loads(dist.read_text("direct_url.json") or "{}")
        except ValueError:
            continue
        url = urlsplit(info.get("url", ""))
        path = Path(unquote(url.path)) / name
        if info.get("dir_info", {}).get("editable") and url.scheme == "file" and path.is_dir():
            return path
    return None


def find_templates(path: Path | None = None) -> Path:
    if path is None:
        path = Path("templates")
        if not path.is_dir():
            path = PACKAGED_TEMPLATES if PACKAGED_TEMPLATES.is_dir() else in_checkout("templates") or path
    if not Path(path).is_dir():
        raise AtlasError(f"templates folder {path} does not exist")
    return Path(path)


def find_content(path: Path | None = None) -> Path:
    """A missing content folder is fine: the pages then have no prose of their own."""
    if path is None:
        path = Path("content")
        if not path.is_dir():
            path = in_checkout("content") or path
    return Path(path)


class Site:
    """Renders pages and collects every output file; ``common`` is every page's shared context."""

    def __init__(self, content: Path, templates: Path, classes: list[dict]):
        self.content, self.templates = content, templates
        self.files: dict[str, bytes | Path] = {}
        self.warnings: list[str] = []
        self.common: dict = {}
        self.all_classes = {c["index"]: c for c in classes}
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates)), autoescape=True, trim_blocks=True,
            lstrip_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
        )
        self.env.filters.update(FILTERS)
        # templates are the project's own code; prose is data, so it gets no way out of the sandbox
        self.prose_env = SandboxedEnvironment(autoescape=True, undefined=jinja2.StrictUndefined)
        self.prose_env.filters.update(FILTERS)
        self._knobs: dict[str, Markup] = {}

    # -- output
    def add(self, rel: str, data: bytes | str | Path) -> None:
        self.files[rel] = data.encode("utf-8") if isinstance(data, str) else data

    def page(self, rel: str, template: str, **ctx) -> None:
        root = "../" * rel.count("/")
        try:
            html = self.env.get_template(template).render(root=root, page_path=rel, **self.common, **ctx)
        except jinja2.TemplateNotFound as exc:
            raise AtlasError(f"template {exc.name!r} not found in {self.templates}") from None
        except jinja2.TemplateError as exc:  # a template bug: name the template and the page
            raise AtlasError(f"template {template} failed on {rel}: {type(exc).__name__}: {exc}") from None
        self.add(rel, html)

    def media(self, job: Published) -> None:
        for m in job.media.values():
            self.add(m["url"], m["src"])

    def asset(self, rel: str, data: bytes) -> str:
        """Add a generated file; its URL carries a content hash, so a browser never mixes old and new."""
        self.add(rel, data)
        return f"{rel}?v={hashlib.sha1(data).hexdigest()[:8]}"

    def static_url(self, name: str) -> str:
        """A static file's URL with a content hash query, so a rebuilt site never mixes old CSS/JS with new pages."""
        path = self.templates / "static" / name
        data = path.read_bytes() if path.is_file() else b""
        return f"{static_path(name)}?v={hashlib.sha1(data).hexdigest()[:8]}"

    def add_static(self) -> None:
        static = self.templates / "static"
        if static.is_dir():
            for p in sorted(static.rglob("*")):
                if p.is_file() and not p.name.startswith("."):
                    self.add(static_path(p.relative_to(static).as_posix()), p)

    def knobs(self, recipe: dict) -> Markup:
        """Every knob as a <dl>, rendered once per distinct recipe (1000 class pages usually share one)."""
        if not isinstance(recipe, dict):
            recipe = {}
        key = json.dumps(recipe, sort_keys=True, default=str)
        if key not in self._knobs:
            rows = "".join(f"<div><dt>{attr(k)}</dt><dd>{attr(fmt_knob(v))}</dd></div>\n" for k, v in recipe.items())
            self._knobs[key] = markup(f'<dl class="knobs">\n{rows}</dl>')
        return self._knobs[key]

    # -- content
    def markdown(self, name: str, **ctx) -> tuple[str, Markup] | None:
        """(title, html) of content/<name>.md, rendered through sandboxed Jinja first (so it can say {{ counts.done }})."""
        path = self.content / f"{name}.md"
        if not path.is_file():
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AtlasError(f"{path}: cannot read it ({exc})") from None
        try:
            text = self.prose_env.from_string(text).render(**self.common, **ctx)
        except jinja2.TemplateError as exc:  # SecurityError included: one line, the build stops
            line = f":{exc.lineno}" if getattr(exc, "lineno", None) else ""
            raise AtlasError(f"{path}{line}: {type(exc).__name__}: {exc}".splitlines()[0]) from None
        title = ""
        m = re.match(r"\s*#\s+(.+?)\s*\n", text)
        if m:
            title, text = m.group(1), text[m.end():]
        body = markdown.markdown(text, extensions=["extra", "sane_lists", "smarty"], output_format="html")
        return title, Markup(body)
