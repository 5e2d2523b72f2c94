"""The benchmark is a tool, not a test: here it only has to run on 2 classes with a few steps."""

import json
import math

import numpy as np
import pytest

from generator.bench import cli, ladder, look, peers, sampling
from generator.bench.report import row_id as report_id
from generator.engine.recipe import MAIN_STAGES


def test_hf_share_ballparks():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    assert 0.75 < look.hf_share(noise) < 0.85  # white noise: power spread evenly, ~80 % above 0.25 cycles/px
    yy, xx = np.mgrid[0:224, 0:224] / 224
    smooth = (0.5 + 0.4 * np.sin(2 * np.pi * 3 * xx) * np.cos(2 * np.pi * 2 * yy)) * 255
    assert look.hf_share(np.stack([smooth] * 3, -1).astype(np.uint8)) < 0.02
    assert look.hf_share(np.full((32, 32, 3), 128, np.uint8)) == 0.0


def test_colourfulness_and_contrast_by_hand():
    grey = np.full((8, 8, 3), 128, np.uint8)
    assert look.colourfulness(grey) == 0.0 and look.rms_contrast(grey) == 0.0
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255  # rg = 255, yb = 127.5 everywhere: no spread, M = 0.3 * |mean|
    assert look.colourfulness(red) == pytest.approx(0.3 * np.hypot(255, 127.5))
    halves = np.zeros((8, 8, 3), np.uint8)
    halves[:, 4:] = 255  # luminance 0 and 1, half each: std 0.5
    assert look.rms_contrast(halves) == pytest.approx(0.5) and look.colourfulness(halves) == pytest.approx(0.0)


def test_reference_photos_look_like_photos():
    photos = look.reference_photos(224)
    if photos is None:
        pytest.skip("scikit-image is not installed")
    scores = [look.look(im) for im in photos.values()]
    assert all(im.shape == (224, 224, 3) for im in photos.values())
    assert 40 < np.mean([s["colourfulness"] for s in scores]) < 80
    assert 0.15 < np.mean([s["contrast"] for s in scores]) < 0.25
    assert 0.01 < np.mean([s["hf_share"] for s in scores]) < 0.06


def test_samples_are_fixed_spread_and_disjoint():
    b = sampling.bench_classes(48)
    assert b == sampling.bench_classes(48) and len(set(b)) == 48
    t = sampling.tuning_classes(16)
    assert len(set(t)) == 16 and not set(t) & set(b)
    assert max(b) - min(b) > 500  # spread over the hierarchy, not one corner of it
    e = sampling.eval_classes()
    tuned = set().union(*(sampling.tuning_classes(k) for k in sampling.TUNING_SIZES))
    assert len(set(e)) == 96 and not set(e) & (set(b) | tuned)
    assert e[:5] == [13, 29, 32, 37, 39]  # recorded in bench/README.md before any tuning
    assert set(sampling.ablation_classes()) <= set(b) and len(sampling.ablation_classes()) == 16


def test_bench_runs_on_two_classes(tmp_path):
    out = tmp_path / "results"
    argv = ["--sample", "bench", "--classes", "2", "--ablation-classes", "1", "--steps", "3", "--size", "64",
            "--stages", "naive,full", "--ladder", "naive", "--without", "blur", "--lucent-classes", "1", "--threads", "1"]
    code = cli.main(argv + ["--out", str(out)])
    assert code == 0
    report = json.loads((out / "latest.json").read_text())
    assert report["mode"] == "quality" and report["schema"] == 2
    assert len(report["samples"]["bench"]) == 2 and len(report["samples"]["ablation"]) == 1
    rows = {report_id(r): r for r in report["rows"]}
    photos = look.reference_photos() is not None
    lucent = peers.lucent_available() is None
    expected = ["naive @ bench", "full @ bench", "naive @ ablation", "full @ ablation", "full w/o blur @ ablation"]
    if lucent:
        expected += ["naive (Lucent's 1) @ bench", "full (Lucent's 1) @ bench", "lucent @ bench"]
    assert list(rows) == (["natural photos @ photos"] if photos else []) + expected
    without, full = rows["full w/o blur @ ablation"], rows["full @ ablation"]
    assert without["kind"] == "without" and without["recipe"]["blur_every"] == 0
    assert {k: v for k, v in without["recipe"].items() if k not in ("blur_every", "stage")} == \
        {k: v for k, v in full["recipe"].items() if k not in ("blur_every", "stage")}
    for row in report["rows"]:
        for key in ("colourfulness", "contrast", "hf_share"):
            assert math.isfinite(row[key]), (row["name"], key)
        if row["kind"] == "reference":
            continue
        for key in ("judge_top1", "judge_top5", "judge_p", "own_top1", "s_per_class", "s_per_image_step"):
            assert math.isfinite(row[key]), (row["name"], key)
        assert 0 <= row["judge_top1"] <= row["judge_top5"] <= 1
    assert [c["index"] for c in rows["naive @ ablation"]["per_class"]] == report["samples"]["ablation"]
    assert set(report["ladder_class"]["stages"]) == {"naive"} and report["ladder_class"]["label"] == "hen"
    on_hen = report["ladder_class"]["stages"]["naive"]  # hen rendered once per seed, p their mean
    assert len(on_hen["seeds"]) == ladder.CLASS_SEEDS and on_hen["p"] == pytest.approx(np.mean(on_hen["seeds"]), abs=1e-4)
    for c in rows["naive @ ablation"]["per_class"]:  # so is every class of a ladder row, its own render first
        assert len(c["seeds"]) == ladder.ROW_SEEDS and c["seeds"][0] == round(c["p"], 5)
    assert "seeds" not in rows["full w/o blur @ ablation"]["per_class"][0]  # not a ladder row
    assert report["ladder_steps"] == []  # one stage: no step to read (tests/bench/test_ladder.py reads some)
    assert report["frozen"]["ratio"] > 0
    md = (out / "latest.md").read_text()
    assert "| naive | bench |" in md and "| full | ablation |" in md and "colourfulness" in md
    assert "Ladder on hen" in md
    if lucent:
        assert set(report["lucent_time_ratio"]) == {"naive @ bench", "full @ bench"} and "Lucent" in md
    else:
        assert "Lucent skipped" in md
    sheets = {p.name for p in out.glob("sheet-*.jpg")}
    assert {"sheet-naive.jpg", "sheet-full.jpg", "sheet-full-ablation.jpg", "sheet-full-wo-blur.jpg"} <= sheets
    assert list(out.glob("bench-*.json"))
    # run again with --reuse: every row is taken from the first report, the ladder's rows with their result on hen
    assert cli.main(argv + ["--reuse", str(out / "latest.json"), "--out", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "latest.json").read_text())
    assert all("reused_from" in r for r in again["rows"] if r["kind"] in ("stage", "without", "peer"))
    assert again["ladder_class"] == report["ladder_class"] and [report_id(r) for r in again["rows"]] == list(rows)
    # and with their contact sheets, copied from the report they came from (not left stale or missing)
    for name in sheets:
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name
    assert "_sheet_dir" not in (tmp_path / "again" / "latest.json").read_text()


def test_merge_of_parts_equals_the_whole(tmp_path):
    common = ["--sample", "bench", "--classes", "2", "--ablation-classes", "2", "--steps", "2", "--size", "48",
              "--stages", "full", "--ladder", "", "--without", "", "--no-lucent", "--no-frozen", "--threads", "1"]
    for k in (0, 1):
        assert cli.main(common + ["--part", f"{k}/2", "--out", str(tmp_path / f"p{k}")]) == 0
    assert cli.main(["--merge", str(tmp_path / "p0" / "latest.json"), str(tmp_path / "p1" / "latest.json"),
                     "--out", str(tmp_path / "m")]) == 0
    assert cli.main(common + ["--out", str(tmp_path / "whole")]) == 0
    merged, whole = (json.loads((tmp_path / d / "latest.json").read_text()) for d in ("m", "whole"))
    assert sorted(merged["samples"]["bench"]) == sorted(whole["samples"]["bench"])
    assert [report_id(r) for r in merged["rows"]] == [report_id(r) for r in whole["rows"]]
    for m, w in zip(merged["rows"], whole["rows"]):  # a class's image barely depends on its batch (float rounding)
        for key in ("judge_p", "colourfulness", "contrast", "hf_share"):
            if w[key] is not None:  # the photos are not judged
                assert m[key] == pytest.approx(w[key], rel=0.02, abs=1e-3), (report_id(m), key)


@pytest.mark.slow
def test_speed_mode_on_lite0_with_its_weights_and_resnet18_without(tmp_path):
    """bench/gpu.sh's two runs, on CPU at toy size: full's classes per minute per model."""
    for model, weights in (("efficientnet_lite0", "efficientnet-lite0-57934424.pth"), ("resnet18", "random-init")):
        out = tmp_path / model
        assert cli.main(["--speed", model, "--stages", "full", "--no-lucent", "--classes", "2", "--batch", "2",
                         "--steps", "2", "--size", "48", "--threads", "1", "--out", str(out)]) == 0
        report = json.loads((out / "latest.json").read_text())
        assert (report["mode"], report["model"], report["weights"]) == ("speed", model, weights)
        assert [(r["name"], r["sample"], r["batch"], len(r["per_class"])) for r in report["rows"]] == \
            [("full", "speed", 2, 2)]
        assert report["rows"][0]["s_per_class"] > 0 and "classes/min" in (out / "latest.md").read_text()


@pytest.mark.parametrize("argv, message", [(["--stages", "bogus"], "unknown stage 'bogus'"),
                                           (["--without", "bogus"], "unknown --without 'bogus'")])
def test_unknown_stage_is_a_clear_error(argv, message, tmp_path):
    from generator.errors import AtlasError

    with pytest.raises(AtlasError, match=message):
        cli.main(argv + ["--out", str(tmp_path)])


@pytest.mark.parametrize("argv, stages", [([], MAIN_STAGES), (["--speed", "resnet18"], ["blur", "full"]),
                                          (["--speed", "resnet18", "--stages", "naive"], ["naive"]),
                                          (["--stages="], []), (["--stages", " full, naive "], ["full", "naive"])])
def test_stages_default_by_mode_unless_given(argv, stages):
    assert cli.chosen_stages(cli.parse_args(argv)) == stages
