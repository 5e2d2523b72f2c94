"""The benchmark is a tool, not a test: here it only has to run on 2 classes with a few steps."""

import json
import math

import numpy as np
import pytest

from generator.bench import cli, metrics, peers, sampling
from generator.engine.recipe import STAGES


def test_hf_share_ballparks():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    assert 0.75 < metrics.hf_share(noise) < 0.85  # white noise: power spread evenly, ~80 % above 0.25 cycles/px
    yy, xx = np.mgrid[0:224, 0:224] / 224
    smooth = (0.5 + 0.4 * np.sin(2 * np.pi * 3 * xx) * np.cos(2 * np.pi * 2 * yy)) * 255
    assert metrics.hf_share(np.stack([smooth] * 3, -1).astype(np.uint8)) < 0.02
    assert metrics.hf_share(np.full((32, 32, 3), 128, np.uint8)) == 0.0


def test_samples_are_fixed_spread_and_disjoint():
    b = sampling.bench_classes(48)
    assert b == sampling.bench_classes(48) and len(set(b)) == 48
    t = sampling.tuning_classes(16)
    assert len(set(t)) == 16 and not set(t) & set(b)
    assert max(b) - min(b) > 500  # spread over the hierarchy, not one corner of it


def test_bench_runs_on_two_classes(tmp_path):
    out = tmp_path / "results"
    code = cli.main(["--classes", "2", "--steps", "3", "--size", "64", "--stages", "naive,full", "--without", "blur",
                       "--threads", "1", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "latest.json").read_text())
    assert report["mode"] == "quality" and len(report["classes"]) == 2
    names = [r["name"] for r in report["rows"]]
    lucent = peers.lucent_available() is None
    assert names == ["naive", "full", "full w/o blur"] + (["lucent"] if lucent else [])
    without = report["rows"][2]
    assert without["kind"] == "without" and without["recipe"]["blur_every"] == 0
    assert {k: v for k, v in without["recipe"].items() if k not in ("blur_every", "stage")} == \
        {k: v for k, v in report["rows"][1]["recipe"].items() if k not in ("blur_every", "stage")}
    for row in report["rows"]:
        for key in ("judge_top1", "judge_top5", "judge_p", "own_top1", "hf_share", "s_per_class", "s_per_image_step"):
            assert math.isfinite(row[key]), (row["name"], key)
        assert 0 <= row["judge_top1"] <= row["judge_top5"] <= 1 and len(row["per_class"]) == 2
    assert report["frozen"]["ratio"] > 0
    md = (out / "latest.md").read_text()
    assert "| naive |" in md and "| full |" in md and "judge top-1" in md
    if lucent:
        assert set(report["lucent_time_ratio"]) == {"naive", "full"} and "Lucent" in md
    else:
        assert "Lucent skipped" in md
    assert list(out.glob("bench-*.json")) and (out / "sheet-full.jpg").exists()


@pytest.mark.parametrize("argv, message", [(["--stages", "bogus"], "unknown stage 'bogus'"),
                                           (["--without", "bogus"], "unknown --without 'bogus'")])
def test_unknown_stage_is_a_clear_error(argv, message, tmp_path):
    from generator.errors import AtlasError

    with pytest.raises(AtlasError, match=message):
        cli.main(argv + ["--out", str(tmp_path)])


@pytest.mark.parametrize("argv, stages", [([], STAGES), (["--speed", "resnet18"], ["blur", "full"]),
                                          (["--speed", "resnet18", "--stages", "naive"], ["naive"]),
                                          (["--stages="], []), (["--stages", " full, naive "], ["full", "naive"])])
def test_stages_default_by_mode_unless_given(argv, stages):
    assert cli.chosen_stages(cli.parse_args(argv)) == stages
