"""CPU lanes: a batch rendered as a few smaller batches side by side, each on its own Python thread with its share of
torch's threads.

Why: at batch 8 a small network's operators are too short to keep two intra-op threads busy (every operator ends
in a barrier), while two lanes of four targets with one thread each never wait on each other: torch releases the
GIL inside its operators. On this project's 2-core CPU, `full` (192 steps, efficientnet_lite0, 8 classes) took
6.90 and 7.46 s a class as one batch with 2 threads against 5.56 and 6.07 s in two lanes (1.23x, alternating runs).
Every target keeps its own generator and loss term (render.py), so a lane renders its targets as the whole batch
would, up to float rounding.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

import torch

from generator.engine.models import LoadedModel
from generator.engine.recipe import Recipe
from generator.engine.render import RenderResult, render_batch
from generator.engine.targets import Target


class _Stopped(Exception):
    """Raised in a lane, at its next step, once the caller has stopped waiting (Ctrl-C, an error in another lane)."""


def lane_count(model: LoadedModel, targets: int) -> int:
    """Lanes for a batch: one per torch thread on a CPU (at most one per target); a GPU renders the batch at once."""
    if model.device.type != "cpu" or torch.is_autocast_enabled("cpu"):  # autocast is per thread: lanes would lose it
        return 1
    return max(1, min(torch.get_num_threads(), targets))


def render_in_lanes(model: LoadedModel, targets: list[Target], recipe: Recipe, on_step=None,
                    lanes: int | None = None) -> list[RenderResult]:
    """``render_batch`` split into ``lanes`` (default: ``lane_count``) run side by side; results in target order."""
    lanes = lane_count(model, len(targets)) if lanes is None else max(1, min(lanes, len(targets)))
    if lanes == 1:
        return render_batch(model, targets, recipe, on_step=on_step)
    start = time.perf_counter()
    threads = torch.get_num_threads()
    per_lane = max(1, threads // lanes)
    stop = threading.Event()

    def lane(k: int) -> list[RenderResult]:
        torch.set_num_threads(per_lane)  # OpenMP's thread count is per calling thread: set it in the lane itself

        def step(done: int, total: int) -> None:
            if stop.is_set():
                raise _Stopped
            if on_step and k == 0:  # the lanes move in step: one reports progress for all
                on_step(done, total)

        return render_batch(model, targets[k::lanes], recipe, on_step=step)

    pool = ThreadPoolExecutor(lanes, thread_name_prefix="atlas-lane")
    try:
        futures = [pool.submit(lane, k) for k in range(lanes)]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for f in done:
            if f.exception() is not None:
                raise f.exception()
        parts = [f.result() for f in futures]
    except BaseException:
        stop.set()  # the other lanes end at their next step; the caller gets the first error (or the Ctrl-C)
        raise
    finally:
        pool.shutdown(wait=True)
        torch.set_num_threads(threads)  # the process-wide count the lanes changed
    results: list[RenderResult] = [None] * len(targets)  # type: ignore[list-item]
    for k, part in enumerate(parts):
        results[k::lanes] = part
    share = (time.perf_counter() - start) / len(targets)  # lanes overlap: a target's share of the whole wall time
    for r in results:
        r.seconds = share
    return results
