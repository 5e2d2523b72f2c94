"""publish/layout.py, the one contract for names: what it says, and that random.html's script agrees with it
(the shortcodes are checked against it in test_shortcodes.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.publish import layout

REPO = Path(__file__).resolve().parents[2]


def test_names_of_classes_channels_and_ladder_stages():
    assert layout.class_media_id(8) == "class-008" and layout.class_page(8) == "classes/008.html"
    assert layout.class_page(517) == "classes/517.html"  # by index: "crane" 134 and 517 both have a page
    assert layout.channel_media_id("_blocks.15", 37) == "channel-_blocks.15-37"
    assert layout.channel_page("layer4.1", 37) == "channels/layer4.1-37.html"
    assert layout.layer_page("a/b c") == "layers/a-b-c.html" and layout.layer_slug("..") == "layer"
    assert layout.layer_page("_avg_pooling", 2) == "layers/_avg_pooling/2.html"  # a folder: no layer's slug
    assert layout.class_sample_media_id(8, 2) == "class-008-2"  # a class's second image; the first is class-008
    assert layout.ladder_media_id("gray-init") == "ladder-gray-init"
    assert [layout.media_path("class-008", k) for k in layout.TARGET_KINDS] == [
        "media/class-008.mp4", "media/class-008.jpg", "media/class-008.png", "media/class-008-thumb.jpg"]
    assert set(layout.LADDER_KINDS) <= set(layout.EMBED_KINDS) <= set(layout.TARGET_KINDS) == set(layout.MEDIA_SUFFIX)


def test_a_poster_is_its_video_with_jpg():
    for media_id in ("class-008", "channel-layer4.1-37", "ladder-naive"):
        assert layout.poster_of(layout.media_path(media_id, "video")) == layout.media_path(media_id, "poster")
    assert layout.post_video_paths("blog", "app1.mp4") == {"video": "blog/app1.mp4", "poster": "blog/app1.jpg"}
    assert layout.post_video_paths("/posts/fv/", "a.mp4") == {"video": "posts/fv/a.mp4", "poster": "posts/fv/a.jpg"}
    assert layout.post_video_paths("", "a.mp4")["video"] == "a.mp4"


@pytest.mark.parametrize("index", [0, 7, 42, 517, 999])
def test_random_pages_script_builds_class_urls_like_the_layout(index):
    script = (REPO / "templates" / "random.html").read_text()
    m = re.search(r'location\.replace\("([^"]*)" \+ String\(i\)\.padStart\((\d+), "0"\) \+ "([^"]*)"\)', script)
    assert m, "random.html builds a class page URL from its index"
    assert f"{m[1]}{str(index).zfill(int(m[2]))}{m[3]}" == layout.class_page(index)
