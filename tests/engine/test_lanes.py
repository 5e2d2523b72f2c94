"""CPU lanes: a batch split across threads renders what the whole batch renders, in order, and stops together."""

import threading

import pytest
import torch

from generator.engine.lanes import lane_count, render_in_lanes
from generator.engine.recipe import stage_recipe
from generator.engine.render import render_batch
from generator.engine.targets import ChannelTarget, class_target
from tests.engine.test_render import SMALL, assert_same_image


def test_lanes_render_what_one_batch_renders_in_target_order(tiny):
    recipe = stage_recipe("full", **SMALL)
    # channel targets on different layers in different lanes, no class target beside them: each lane's forward
    # stops early at its own layer, so a hook that caught the other lane's pass would break that lane
    targets = [ChannelTarget("block.0", 5), ChannelTarget("stem.0", 2), class_target(3), ChannelTarget("stem.0", 7)]
    whole = render_batch(tiny, targets, recipe)
    steps = []
    lanes = render_in_lanes(tiny, targets, recipe, on_step=lambda done, total: steps.append(done), lanes=2)
    assert [r.target for r in lanes] == targets
    for a, b in zip(whole, lanes):
        assert b.ok, b.error
        assert_same_image(a.image, b.image)
        assert [s for s, _ in a.frames] == [s for s, _ in b.frames]
        assert b.seconds > 0
    assert steps == list(range(1, recipe.steps + 1))  # one lane reports progress for all


def test_an_interrupted_lane_stops_the_others_at_their_next_step(tiny):
    recipe = stage_recipe("full", **SMALL).with_(steps=10_000)
    passes = {}
    count = tiny.net.register_forward_pre_hook(
        lambda module, args: passes.__setitem__(threading.get_ident(), passes.get(threading.get_ident(), 0) + 1))

    def interrupt(done, total):
        if done == 3:
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            render_in_lanes(tiny, [class_target(1), class_target(2)], recipe, on_step=interrupt, lanes=2)
    finally:
        count.remove()
    assert len(passes) == 2 and max(passes.values()) < 1000  # neither lane ran on to its 10 000 steps


def test_lanes_follow_the_thread_count_on_a_cpu_and_keep_autocast_whole(tiny):
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert lane_count(tiny, 8) == 2 and lane_count(tiny, 1) == 1
        with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast is per thread: a lane would not inherit it
            assert lane_count(tiny, 8) == 1
    finally:
        torch.set_num_threads(threads)
    assert torch.get_num_threads() == threads
