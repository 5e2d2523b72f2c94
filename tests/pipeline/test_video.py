"""Progress MP4s, posters and thumbnails: what browsers need (H.264, yuv420p, faststart, no audio), and size budgets."""

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from generator.pipeline.video import (
    BUDGET_224,
    _top_level_boxes,
    encode_progress,
    probe_mp4,
    write_poster,
    write_thumbnail,
)


def optimization_frames(n: int = 40, side: int = 224, seed: int = 0) -> list[np.ndarray]:
    """Like an optimization's frames: high-contrast noise that changes every step, fading into a smooth gradient.

    Costs x264 about 2.3 KB a frame at crf 33, close to real frames (2.6-2.7 KB for efficientnet_lite0, "full").
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    gradient = np.stack([x, y, 1 - (x + y) / 2], axis=-1) * 255
    field = rng.normal(0, 1, (side, side, 3))
    frames = []
    for k in range(n):
        t = k / (n - 1)
        field = 0.9 * field + 0.44 * rng.normal(0, 1, field.shape)  # the pattern drifts every step
        image = (1 - t) * (128 + 180 * field) + t * gradient
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
    return frames


def decode(path) -> list[np.ndarray]:
    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]
    return [np.frombuffer(buf, np.uint8).reshape(h, w, 3) for buf in gen]


@pytest.fixture(scope="module")
def video224(tmp_path_factory):
    frames = optimization_frames()
    path = tmp_path_factory.mktemp("video") / "progress.mp4"
    info = encode_progress(frames, path, fps=20, hold_s=1.5)
    return frames, path, info


def test_progress_mp4_is_browser_ready(video224):
    frames, path, info = video224
    probe = probe_mp4(path)
    assert probe["codec"] == "h264"
    assert probe["pix_fmt"] == "yuv420p"
    assert probe["faststart"] is True
    assert probe["has_audio"] is False
    assert (probe["width"], probe["height"]) == (224, 224)
    assert probe["frames"] == 40 + 30 == info["frames"]  # 1.5 s hold at 20 fps
    assert probe["fps"] == 20.0
    assert info["seconds"] == pytest.approx(70 / 20)
    assert info["bytes"] == path.stat().st_size


def test_progress_mp4_fits_the_budget_at_the_default_crf(video224):
    _, path, info = video224
    assert info["crf"] == 33  # no fallback needed: the default quality itself fits
    assert path.stat().st_size < BUDGET_224 == 250_000
    assert path.stat().st_size < 0.8 * BUDGET_224  # "well under", with room for busier targets


def test_progress_mp4_shows_the_frames_and_holds_the_last(video224):
    frames, path, _ = video224
    decoded = decode(path)
    assert len(decoded) == 70
    last = frames[-1].astype(int)
    assert np.abs(decoded[39].astype(int) - last).mean() < 4  # the smooth final frame survives compression
    assert np.abs(decoded[-1].astype(int) - last).mean() < 4  # and is still there at the end of the hold
    assert np.abs(decoded[0].astype(int) - last).mean() > 30  # while the first frame is the noisy start


def test_encoding_is_deterministic(tmp_path):
    frames = optimization_frames(n=8, side=64)
    encode_progress(frames, tmp_path / "a.mp4")
    encode_progress(frames, tmp_path / "b.mp4")
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()  # same job, same bytes


def test_odd_sizes_are_padded_to_even(tmp_path):
    frames = [np.full((75, 75, 3), v, np.uint8) for v in (0, 128, 255)]
    frames[-1][:, -1] = (255, 0, 0)  # the last column must survive (padding, not cropping)
    info = encode_progress(frames, tmp_path / "odd.mp4", fps=10, hold_s=0.5)
    probe = probe_mp4(tmp_path / "odd.mp4")
    assert (info["width"], info["height"]) == (76, 76) == (probe["width"], probe["height"])
    assert probe["frames"] == info["frames"] == 3 + 5
    assert probe["codec"] == "h264" and probe["pix_fmt"] == "yuv420p" and probe["faststart"]
    red = decode(tmp_path / "odd.mp4")[-1][:, -2:].astype(int).mean(axis=(0, 1))
    assert red[0] > 180 and red[1] < 120 and red[2] < 120  # the padded edge column repeats the red one


def test_budget_raises_crf_until_the_file_fits(tmp_path):
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(10)]  # pure noise: the worst case
    free = encode_progress(frames, tmp_path / "free.mp4", hold_s=0, max_bytes=10**9)
    tight = encode_progress(frames, tmp_path / "tight.mp4", hold_s=0, max_bytes=free["bytes"] // 2)
    assert free["crf"] == 33
    assert tight["crf"] > 33
    assert tight["bytes"] <= free["bytes"] // 2
    assert probe_mp4(tmp_path / "tight.mp4")["frames"] == 10


def test_encode_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError):
        encode_progress([], tmp_path / "none.mp4")
    with pytest.raises(ValueError):
        encode_progress([np.zeros((8, 8), np.uint8)], tmp_path / "gray.mp4")
    with pytest.raises(ValueError):
        encode_progress([np.zeros((8, 8, 3), np.uint8), np.zeros((16, 16, 3), np.uint8)], tmp_path / "mixed.mp4")


def test_probe_sees_a_file_without_faststart(video224, tmp_path):
    _, path, _ = video224
    plain = tmp_path / "plain.mp4"
    # a plain remux: ffmpeg's mp4 muxer writes 'moov' after 'mdat' unless asked for faststart
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-c", "copy", str(plain)], check=True
    )
    probe = probe_mp4(plain)
    assert probe["faststart"] is False
    assert probe["frames"] == 70


def test_probe_rejects_truncated_and_garbage_files(video224, tmp_path):
    _, path, _ = video224
    data = path.read_bytes()
    for name, content in [
        ("half.mp4", data[: len(data) // 2]),
        ("head.mp4", data[:100]),
        ("empty.mp4", b""),
        ("garbage.mp4", np.random.default_rng(2).integers(0, 256, 5000, dtype=np.uint8).tobytes()),
        ("text.mp4", b"<html>404 not found</html>"),
    ]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError):
            probe_mp4(tmp_path / name)
    with pytest.raises(ValueError):
        probe_mp4(tmp_path / "missing.mp4")


def test_box_parser_reads_64_bit_sizes(tmp_path):
    def box(kind: bytes, payload: bytes) -> bytes:
        return (8 + len(payload)).to_bytes(4, "big") + kind + payload

    big_mdat = (1).to_bytes(4, "big") + b"mdat" + (16 + 4).to_bytes(8, "big") + b"\0" * 4
    path = tmp_path / "boxes.mp4"
    path.write_bytes(box(b"ftyp", b"isom\0\0\0\0") + box(b"moov", b"") + big_mdat)
    assert _top_level_boxes(path) == ["ftyp", "moov", "mdat"]
    path.write_bytes(box(b"ftyp", b"isom\0\0\0\0") + big_mdat[:-1] + box(b"moov", b""))  # mdat claims 1 byte too many
    with pytest.raises(ValueError):
        _top_level_boxes(path)


def test_poster_is_a_full_size_jpeg(tmp_path):
    image = optimization_frames(n=2)[-1]
    info = write_poster(image, tmp_path / "poster.jpg")
    assert (info["width"], info["height"]) == (224, 224)
    assert info["bytes"] == (tmp_path / "poster.jpg").stat().st_size
    assert info["bytes"] < 40_000
    with Image.open(tmp_path / "poster.jpg") as im:
        assert im.format == "JPEG" and im.size == (224, 224)
        assert np.abs(np.asarray(im.convert("RGB")).astype(int) - image.astype(int)).mean() < 4


def test_thumbnail_steps_quality_down_to_fit_its_budget(tmp_path):
    smooth = optimization_frames(n=2)[-1]
    noise = np.random.default_rng(3).integers(0, 256, (160, 160, 3), dtype=np.uint8)  # already thumbnail-sized
    for name, image in [("smooth", smooth), ("noise", noise)]:
        info = write_thumbnail(image, tmp_path / f"{name}.jpg", side=160, max_bytes=10_000)
        assert (info["width"], info["height"]) == (160, 160)
        assert info["bytes"] == (tmp_path / f"{name}.jpg").stat().st_size <= 10_000
        with Image.open(tmp_path / f"{name}.jpg") as im:
            assert im.format == "JPEG" and im.size == (160, 160)
            im.load()
    # noise is incompressible at quality 85, so the loop must have stepped quality down to fit
    assert write_thumbnail(noise, tmp_path / "n.jpg", max_bytes=10**9)["bytes"] > 10_000


def test_thumbnail_keeps_aspect_ratio(tmp_path):
    info = write_thumbnail(np.zeros((100, 300, 3), np.uint8), tmp_path / "wide.jpg", side=150)
    assert (info["width"], info["height"]) == (150, 50)
