"""The blog post's own videos: from the store into a blog, the [ladder] checks, and `make post-videos` end to end."""

from __future__ import annotations

import dataclasses
import re

import pytest

from generator.cli import main
from generator.errors import AtlasError
from generator.pipeline.store import Store
from generator.publish.post_videos import check_post_videos, post_video_files, post_video_plan, write_post_videos
from tests.publish.blog_fixtures import POST, make_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return Store(make_store(tmp_path_factory.mktemp("post")))


def test_post_videos_copy_from_the_store(store, tmp_path):
    out = tmp_path / "site"
    rows = write_post_videos(store, out)
    assert [r["rel"]["video"] for r in rows] == [f"blog/app{i}.mp4" for i in range(1, 7)]
    for i in range(1, 7):
        assert (out / "blog" / f"app{i}.mp4").stat().st_size == rows[i - 1]["bytes"]["video"] > 0
        assert (out / "blog" / f"app{i}.jpg").stat().st_size > 0
    assert sorted(post_video_files(store)) == sorted([f"blog/app{i}.{e}" for i in range(1, 7) for e in ("mp4", "jpg")])
    assert write_post_videos(store, out) and (out / "blog" / "app1.mp4").is_file()  # idempotent


def test_post_videos_config_errors(store):
    stages = [*POST, "fourier"]
    check_post_videos("blog", POST, stages)
    for post_dir, videos, message in [
        ("blog", {"naive": "app1.mp4", "nope": "x.mp4"}, "stage 'nope'"),
        ("blog", {"naive": "../app1.mp4"}, "plain file name"),
        ("blog", {"naive": "app1.webm"}, "plain file name"),
        ("../up", {"naive": "app1.mp4"}, "relative folder"),
        ("blog", {"naive": "a.mp4", "sgd": "a.mp4"}, "share one file name"),
    ]:
        with pytest.raises(AtlasError, match=re.escape(message)):
            check_post_videos(post_dir, videos, stages)
    manifest = store.read_manifest()
    stages = tuple(s for s in manifest.ladder.stages if s.stage in ("naive", "sgd"))
    manifest = dataclasses.replace(manifest, ladder=dataclasses.replace(manifest.ladder, stages=stages))
    with pytest.raises(AtlasError, match="not in \\[ladder\\] stages"):
        post_video_plan(store, manifest)
    assert [r["stage"] for r in post_video_plan(store, manifest, strict=False)] == ["naive", "sgd"]


POST_CONFIG = """
title = "post videos"
classes = [1, 2]
[model]
name = "tiny"
[recipe]
steps = 6
size = 32
frames = 4
[video]
hold_s = 0.2
[ladder]
target = "hen"
stages = ["naive", "sgd", "full"]
post_dir = "posts/fv"
post_videos = { naive = "step1.mp4", sgd = "step2.mp4" }
"""


def test_make_post_videos_renders_only_the_post_stages(tmp_path, monkeypatch, capsys):
    """`atlas post-videos` (make post-videos) end to end on the tiny model: two stages, nothing else rendered."""
    import generator.pipeline.build
    from tests.tiny import tiny_model

    monkeypatch.setattr(generator.pipeline.build, "load_build_model", lambda config, name, device: tiny_model())
    monkeypatch.setattr(generator.pipeline.build, "architecture_layers", lambda name: tiny_model().layer_channels())
    (tmp_path / "atlas.toml").write_text(POST_CONFIG)
    args = ["post-videos", "--config", str(tmp_path / "atlas.toml"), "--store", str(tmp_path / "store"),
            "--out", str(tmp_path / "site"), "--device", "cpu"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "2 jobs to render" in err and "post videos in" in err and "2 of 2" in err
    for name in ("step1.mp4", "step1.jpg", "step2.mp4", "step2.jpg"):
        assert (tmp_path / "site" / "posts" / "fv" / name).stat().st_size > 0
    assert len(list((tmp_path / "store" / "jobs").iterdir())) == 2  # not the classes, not 'full'
    assert (tmp_path / "site" / "recipe.html").is_file()  # the site was built around them
    assert main(args) == 0 and "nothing to render" in capsys.readouterr().err
    (tmp_path / "bad.toml").write_text(POST_CONFIG.replace('sgd = "step2.mp4"', 'blur = "step2.mp4"'))
    assert main([*args[:2], str(tmp_path / "bad.toml"), *args[3:]]) == 2
    assert "stage 'blur'" in capsys.readouterr().err
