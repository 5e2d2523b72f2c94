"""The recipe as data: the post's ladder, the tuned full recipe, leave-one-out, and clear errors."""

import pytest

from generator.engine.recipe import POST_STAGES, STAGES, ladder_recipe, stage_recipe, without_recipe
from generator.errors import AtlasError


def test_ladder_is_cumulative_and_follows_the_post():
    r = {s: stage_recipe(s) for s in STAGES}
    assert POST_STAGES == ["naive", "sgd", "gray-init", "robust", "l2", "blur"]
    assert (r["naive"].init, r["naive"].optimizer, r["naive"].param) == ("uniform", "adam", "pixel")
    assert r["naive"].jitter == 0 and r["naive"].l2 == 0 and r["naive"].blur_every == 0
    assert r["sgd"].optimizer == "sgd" and r["sgd"].init == "uniform"
    # sgd is the post's detour: worse than Adam, so the next stages build on naive's Adam, not on it
    assert r["gray-init"].init == "gray" and r["gray-init"].optimizer == "adam"
    assert r["gray-init"].lr == r["naive"].lr and r["blur"].optimizer == "adam"
    assert r["robust"].jitter > 0 and r["robust"].rotate > 0 and r["robust"].scale != (1.0, 1.0)
    assert r["l2"].l2 > 0 and r["l2"].jitter == r["robust"].jitter
    assert r["blur"].blur_every > 0 and r["blur"].blur_sigma > 0 and r["blur"].l2 == r["l2"].l2
    assert r["fourier"].param == "fourier"
    full = r["full"]  # the post's improvements stay in the tuned recipe
    assert full.init == "gray" and full.jitter > 0 and full.l2 > 0 and full.blur_every > 0
    hq = r["full-hq"]  # the slower preset: more of the same
    assert hq.steps > full.steps and hq.param == full.param


def test_unknown_stage_and_knob_are_clear_errors():
    with pytest.raises(AtlasError, match="unknown recipe stage 'bogus'"):
        stage_recipe("bogus")
    with pytest.raises(AtlasError, match="unknown recipe setting 'lrr'"):
        stage_recipe("full", lrr=0.1)
    with pytest.raises(AtlasError, match="steps must be >= 1"):
        stage_recipe("full", steps=0)


def test_without_switches_off_one_improvement():
    full = stage_recipe("full")
    assert without_recipe("blur").blur_every == 0 and full.blur_every > 0
    assert without_recipe("gray-init").init == "uniform" and full.init == "gray"
    robust = without_recipe("robust")  # every random transform off, the mirror too
    assert (robust.jitter, robust.rotate, robust.flip) == (0, 0.0, False) and full.flip
    assert without_recipe("l2").with_(stage="full", l2=full.l2) == full
    with pytest.raises(AtlasError, match="unknown improvement 'bogus'"):
        without_recipe("bogus")


def test_ladder_stage_within_an_atlas_keeps_its_own_steps_and_the_atlas_size_seed_frames():
    base = stage_recipe("full", size=96, seed=3, frames=16, steps=50)
    blur = ladder_recipe(base, "blur")
    # the pixel stages have a step budget of their own; size, seed and video frames are the atlas's
    assert blur.steps == stage_recipe("blur").steps == 512 and (blur.size, blur.seed, blur.frames) == (96, 3, 16)
    assert blur.param == "pixel" and blur.blur_every == stage_recipe("blur").blur_every
    assert ladder_recipe(base, "fourier").steps == 128
    assert ladder_recipe(base, "full") == base  # the atlas's own stage is its class job
    assert ladder_recipe(base.with_(stage="robust"), "robust").steps == 50
