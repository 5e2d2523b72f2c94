"""Publishing the site: a new site is built beside the old one and swapped in, so an interrupted site step (Ctrl-C,
kill -9, an error) leaves the old site whole, a reader never sees a mix, and the user's files in site/ stay."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

import generator.publish.site.publish as publish
from generator.pipeline.store import Store
from generator.publish.site.build import build_site
from tests.synthetic_store import make_store

REPO = Path(__file__).resolve().parents[2]
KW = dict(content=REPO / "content", templates=REPO / "templates")


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under folder -> a digest of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def retitle(store: Path, title: str) -> None:
    """A change that touches every page."""
    s = Store(store)
    s.write_manifest(replace(s.read_manifest(), title=title))


@pytest.fixture
def old_and_new(tmp_path):
    """A site built from the store, then the store changed: (store, site, old snapshot, the new site's snapshot)."""
    store = make_store(tmp_path / "store", classes=range(60), channels=False)
    out = tmp_path / "site"
    build_site(store, out, **KW)
    (out / "CNAME").write_text("atlas.example.org\n")
    old = snapshot(out)
    retitle(store, "A retitled atlas")
    build_site(store, tmp_path / "expected", **KW)
    new = snapshot(tmp_path / "expected") | {"CNAME": old["CNAME"]}
    assert old != new
    return store, out, old, new


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".site.") and p.name != ".site.lock")


@pytest.mark.parametrize("step, at", [("link_or_copy", 1), ("link_or_copy", 40), ("carry", 1), ("swap_in", 1)])
def test_ctrl_c_while_the_new_site_is_written_leaves_the_old_site_whole(old_and_new, tmp_path, monkeypatch, step, at):
    """Ctrl-C at the first file, in the middle, at the user's files (last), and just before the swap."""
    store, out, old, _ = old_and_new
    real, calls = getattr(publish, step), []

    def interrupted(*args):
        calls.append(args)
        if len(calls) == at:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(publish, step, interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_site(store, out, **KW)
    assert snapshot(out) == old
    assert leftovers(tmp_path) == []


def test_ctrl_c_during_the_swap_waits_for_it(old_and_new, tmp_path, monkeypatch):
    """A real SIGINT between the swap's two renames is held off until both are done: the new site, whole."""
    store, out, _, new = old_and_new
    real = os.rename

    def rename(src, dst):
        real(src, dst)
        if Path(dst).name.startswith(".site.old-"):  # the old site is aside, the new one not yet in
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(publish.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        build_site(store, out, **KW)
    assert snapshot(out) == new
    assert leftovers(tmp_path) == []


def test_a_kill_between_the_renames_is_repaired_by_the_next_publish(old_and_new, tmp_path):
    store, out, old, new = old_and_new
    aside = publish.sibling(out, "old")
    os.rename(out, aside)  # what a kill -9 between the two renames leaves
    (tmp_path / ".site.new-1.abc").mkdir()  # and a half-built site of a killed publish
    publish.restore_interrupted(out)
    assert snapshot(out) == old and leftovers(tmp_path) == []
    build_site(store, out, **KW)
    assert snapshot(out) == new


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupting_atlas_site_at_random_moments_never_leaves_a_mix(old_and_new, tmp_path, sig):
    """`atlas site` in its own process, stopped at random moments: the site is always the old one or the new one."""
    store, out, _, _ = old_and_new
    old_title, new_title = "Feature Atlas", "A retitled atlas"  # (make_store's title, and the fixture's)
    cmd = [sys.executable, "-m", "generator", "site", "--store", str(store), "--out", str(out)]
    rng = random.Random(int(sig))
    for delay in [rng.uniform(0.3, 2.0) for _ in range(3)]:
        retitle(store, old_title)
        build_site(store, out, **KW)  # (also cleans what a killed run left beside the site)
        old = snapshot(out)
        retitle(store, new_title)  # (which also stamps the manifest's time, shown on every page: the new site is
        build_site(store, tmp_path / "expected", **KW)  # made again, or a minute ticking over would differ)
        new = snapshot(tmp_path / "expected") | {"CNAME": old["CNAME"]}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
        time.sleep(delay)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert b"Traceback" not in err
        assert snapshot(out) in (old, new), "a mix of the old site and the new one"
    publish.restore_interrupted(out)  # what the next publish does first
    assert leftovers(tmp_path) == []


def test_user_files_and_links_are_carried_over(tmp_path):
    store = make_store(tmp_path / "store", classes=[8], channels=False, ladder=False)
    out = tmp_path / "site"
    build_site(store, out, **KW)
    (out / "CNAME").write_text("atlas.example.org\n")
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/site\n")
    (out / "notes.md").symlink_to("CNAME")
    (out / "index.html").write_text("edited by hand")  # the atlas's own page: rebuilt
    stats = build_site(store, out, **KW)["sync"]
    assert (out / "CNAME").read_text() == "atlas.example.org\n" and (out / ".git" / "HEAD").exists()
    assert (out / "notes.md").is_symlink() and os.readlink(out / "notes.md") == "CNAME"
    assert "edited by hand" not in (out / "index.html").read_text()
    assert stats["kept"] == 3 and stats["written"] == 1


def test_a_linked_site_folder_is_swapped_where_it_points(tmp_path):
    store = make_store(tmp_path / "store", classes=[8], channels=False, ladder=False)
    (tmp_path / "www").mkdir()
    (tmp_path / "site").symlink_to(tmp_path / "www" / "atlas", target_is_directory=True)
    build_site(store, tmp_path / "site", **KW)
    build_site(store, tmp_path / "site", **KW)
    assert (tmp_path / "site").is_symlink() and (tmp_path / "www" / "atlas" / "index.html").is_file()
