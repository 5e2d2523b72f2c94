"""The render engine's mechanics on a tiny model: every stage, frames, coarse-to-fine, batching, determinism,
NaN, frozen weights."""

import numpy as np
import pytest
import torch

from generator.errors import AtlasError
from generator.engine.recipe import STAGES, stage_recipe
from generator.engine.render import frame_schedule, render_batch
from generator.engine.targets import ChannelTarget, class_target

SMALL = dict(steps=12, size=32, frames=6)


def assert_same_image(a, b):
    """Equal up to float rounding: batched convolutions may sum in another order (off by at most 1/255, rarely)."""
    diff = np.abs(a.astype(int) - b.astype(int))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_raises_its_objective(tiny, stage):
    recipe = stage_recipe(stage, **SMALL)
    # the tiny random net's logits move ~100x less per pixel than a trained net's: scale the L2 weight with them
    recipe = recipe.with_(l2=min(recipe.l2, 2.0))
    targets = [class_target(3), ChannelTarget("block.0", 5)]
    for r in render_batch(tiny, targets, recipe):
        assert r.ok, r.error
        assert r.image.shape == (32, 32, 3) and r.image.dtype == np.uint8
        assert len(r.values) == recipe.steps
        assert r.values[-1] > r.values[0], (stage, r.target, r.values)
        assert [s for s, _ in r.frames] == frame_schedule(recipe.steps, recipe.frames)
        assert len(r.top5) == 5
    assert len(render_batch(tiny, [class_target(3)], recipe)[0].probs) == recipe.steps


def test_frame_schedule_is_dense_early_and_sparse_late():
    steps = frame_schedule(128, 64)
    assert steps[0] == 0 and steps[-1] == 128 and len(steps) <= 64
    gaps = np.diff(steps)
    assert gaps[:5].max() <= 1 and gaps[-5:].min() >= 3


def test_coarse_to_fine_shows_the_model_a_small_view_first(tiny):
    seen = []
    hook = tiny.net.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[-1]))
    recipe = stage_recipe("full", **SMALL).with_(steps=8, coarse_view=112, coarse_until=0.5)  # 112/224 of 32 px
    try:
        result = render_batch(tiny, [class_target(3)], recipe)[0]
    finally:
        hook.remove()
    assert seen[:8] == [16] * 4 + [32] * 4  # 4 coarse steps at 16 px, then the full 32 px image
    assert result.ok and result.image.shape == (32, 32, 3)
    with pytest.raises(AtlasError, match="coarse_until"):
        recipe.with_(coarse_until=1.5)


def test_batch_composition_does_not_change_a_target(tiny):
    recipe = stage_recipe("full", **SMALL)
    alone = render_batch(tiny, [class_target(7)], recipe)[0]
    mixed = render_batch(tiny, [class_target(1), ChannelTarget("stem.0", 2), class_target(7)], recipe)[2]
    assert_same_image(alone.image, mixed.image)
    np.testing.assert_allclose(alone.values, mixed.values, rtol=1e-5)


def test_fixed_seed_is_deterministic_and_seeds_differ(tiny):
    recipe = stage_recipe("robust", **SMALL)
    a = render_batch(tiny, [class_target(5)], recipe)[0].image
    b = render_batch(tiny, [class_target(5)], recipe)[0].image
    c = render_batch(tiny, [class_target(5)], recipe.with_(seed=1))[0].image
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_nan_stops_only_its_target(tiny):
    recipe = stage_recipe("full", **SMALL)
    targets = [class_target(1), ChannelTarget("probe", 0), ChannelTarget("stem.0", 3)]
    results = render_batch(tiny, targets, recipe)
    assert not results[1].ok and "NaN/Inf at step 0" in results[1].error and results[1].image is None
    assert results[0].ok and results[2].ok
    clean = render_batch(tiny, [targets[0], targets[2]], recipe)
    for r, c in zip([results[0], results[2]], clean):
        assert_same_image(r.image, c.image)
        assert np.isfinite(r.values).all()


def test_weights_are_frozen_and_untouched(tiny):
    before = {k: v.clone() for k, v in tiny.net.state_dict().items()}
    assert not any(p.requires_grad for p in tiny.net.parameters())
    render_batch(tiny, [class_target(2)], stage_recipe("naive", **SMALL))
    assert all(p.grad is None for p in tiny.net.parameters())
    for k, v in tiny.net.state_dict().items():
        assert torch.equal(v, before[k])


def test_logprob_weight_changes_class_targets_only(tiny):
    from generator.engine.objectives import class_logprob

    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    got = class_logprob(logits, [class_target(0), ChannelTarget("block", 1)])
    assert got[0] == pytest.approx(float(torch.log_softmax(logits[0], 0)[0])) and got[1] == 0
    targets = [class_target(8), ChannelTarget("block", 3)]
    recipe = stage_recipe("full", size=32, steps=6, frames=2)
    plain, both = render_batch(tiny, targets, recipe), render_batch(tiny, targets, recipe.with_(logprob_weight=2.0))
    assert not np.array_equal(plain[0].image, both[0].image)
    assert np.array_equal(plain[1].image, both[1].image)  # a channel has no class to push the others down from
