"""Transformation robustness: the random mirror (flip) and what it must not change."""

import pytest
import torch

from generator.engine.recipe import recorded, stage_recipe
from generator.engine.transforms import draw_affine, random_views
from generator.errors import AtlasError


def test_flip_mirrors_half_the_views_and_leaves_the_rest_as_without_it():
    plain, flipped = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    mirrored = 0
    for _ in range(64):
        a = draw_affine(plain, 0.04, (0.9, 1.1), 10.0)
        b = draw_affine(flipped, 0.04, (0.9, 1.1), 10.0, flip=True)
        torch.rand(1, generator=plain, dtype=torch.float64)  # keep the two streams in step
        if torch.equal(a, b):
            continue
        assert torch.equal(b[:, 0], -a[:, 0]) and torch.equal(b[:, 1:], a[:, 1:])  # x mirrored, the rest the same
        mirrored += 1
    assert 16 < mirrored < 48


def test_without_flip_the_random_stream_is_the_one_before_flip_existed():
    """Recipes without flip keep their pixels (and their stores): draw_affine draws exactly four numbers."""
    gen, reference = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    draw_affine(gen, 0.04, (0.9, 1.1), 10.0)
    torch.rand(4, generator=reference, dtype=torch.float64)
    assert torch.equal(torch.rand(3, generator=gen), torch.rand(3, generator=reference))


def test_a_flip_only_view_is_the_image_or_its_mirror():
    image = torch.rand(6, 3, 16, 16)
    gens = [torch.Generator().manual_seed(i) for i in range(6)]
    views = random_views(image, gens, jitter=0, scale=(1.0, 1.0), rotate=0.0, view=0, reference=16, flip=True)
    for img, view in zip(image, views):
        assert torch.allclose(view, img, atol=1e-5) or torch.allclose(view, img.flip(-1), atol=1e-5)


def test_flip_is_a_true_or_false_knob_left_out_of_job_keys_when_off():
    full = stage_recipe("full")
    assert "flip" not in stage_recipe("naive").key_knobs()  # off: keys made before the knob existed stay valid
    before = {k: v for k, v in full.knobs().items() if k != "flip"}  # a report's recipe from before the knob
    assert recorded(before) == full.with_(flip=False).record()
    assert full.with_(flip=not full.flip).key_knobs() != full.key_knobs()
    with pytest.raises(AtlasError, match="flip must be true or false"):
        full.with_(flip=1)
