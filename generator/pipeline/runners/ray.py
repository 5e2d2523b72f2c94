"""Render on a Ray cluster: the same batches as the local runner, on a pool of Ray actors.

Each actor holds the model (loaded once, in its constructor) and renders one batch per task with
``render_and_package`` -- the local runner's own code path (local.py) -- and returns the artifacts' bytes and
metadata. The driver writes them through the atomic store, so workers need no shared filesystem and a
cluster build stores what a local build stores.

- Model: by default the driver's loaded model travels to the workers through Ray's object store (CPU
  copy), so workers need neither the weights files nor a network; ``loader`` (a picklable callable
  returning a LoadedModel) loads it on each worker instead. Either way the worker checks that it
  holds the model the driver planned with (name, weights, input size).
- Pool: when the cluster has GPUs, one actor per GPU (``num_gpus=1``); else one actor per node with all
  its CPUs (or one per ``cpus_per_worker`` CPUs), sized from the cluster when the first batch comes.
- Same pixels: torch's result depends on its thread count, so a worker on the driver's machine uses
  the local runner's count and stores bit-identical images; elsewhere a worker uses its CPUs.
- Faults: a task whose worker died (process killed, node lost) or that raised is submitted again
  (on a fresh actor when the old one is gone) up to ``max_retries`` times, then every job of its
  batch is recorded as failed ("worker lost: ...") and the build goes on.
- Ctrl-C / close(): outstanding tasks are cancelled and the actors killed; Ray is shut down only
  when this runner started it.

Batches come back in the order they finish, not the order they were submitted.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import sys
from collections import deque
from collections.abc import Iterator

import ray
import ray.exceptions
import torch
from tqdm import tqdm

from generator.engine.render import RenderResult
from generator.errors import AtlasError
from generator.pipeline.runners.local import package_all, render_and_package


class RenderWorker:
    """One pool slot: a process holding the model. Errors while loading are kept and reported by
    ``ready()`` (an exception in an actor's constructor would only say 'actor died')."""

    def __init__(self, model, loader, identity: dict, threads: int | None, cpus: float, driver: dict):
        self.error, self.model = None, None
        try:
            if threads is None:  # on the driver's machine: the local runner's count (bit-equal results)
                same_machine = ray.util.get_node_ip_address() == driver["node"]
                threads = driver["threads"] if same_machine else int(cpus)
            torch.set_num_threads(max(1, threads))
            loaded = loader() if model is None else model
            # the same model under the same weights, or the keys would lie
            got = {k: v for k, v in loaded.identity.items() if k in ("name", "weights", "input_size")}
            want = {k: v for k, v in identity.items() if k in ("name", "weights", "input_size")}
            if got != want:
                raise AtlasError(f"the worker loaded {got}, but the build was planned with {want}")
            loaded.requested = identity.get("requested", "")  # a fallback is recorded as on the driver
            loaded.fallback_reason = identity.get("fallback_reason", "")
            self.model = loaded.to("cuda" if ray.get_gpu_ids() else "cpu")
        except Exception as exc:  # noqa: BLE001 -- reported to the driver as one line
            self.error = f"{type(exc).__name__}: {exc}".splitlines()[0]

    def ready(self) -> dict:
        return {"pid": os.getpid(), "node": ray.util.get_node_ip_address(), "error": self.error,
                "device": None if self.model is None else str(self.model.device), "threads": torch.get_num_threads()}

    def render(self, batch, video: dict) -> list[tuple]:
        if self.error:
            raise RuntimeError(f"worker could not load the model: {self.error}")
        return render_and_package(self.model, batch, video)


def first_line(exc: BaseException) -> str:
    """One line for a log: the worker's own exception when Ray wraps one, else Ray's first line plus the
    last 'SomeError: ...' line of any traceback it quotes (e.g. why an actor's constructor failed)."""
    cause = getattr(exc, "cause", None)  # RayTaskError: the worker's own exception
    exc = cause if isinstance(cause, BaseException) else exc
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    head = f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    errors = [line for line in lines[1:] if re.match(r"^[\w.]+(Error|Exception|Exit|Interrupt): ", line)]
    return f"{head} ({errors[-1]})" if errors else head


class RayRunner:
    name = "ray"

    def __init__(self, model, video: dict, address: str | None = None, *, loader=None, workers: int | None = None,
                 gpus_per_worker: float | None = None, cpus_per_worker: float | None = None, threads: int | None = None,
                 max_retries: int = 2, depth: int = 2, startup_timeout_s: float = 600.0, init_kwargs: dict | None = None,
                 out=None):
        """``address``: a Ray cluster ('auto', 'HOST:6379', 'ray://HOST:10001'); None: RAY_ADDRESS when set,
        else a new local Ray instance (stopped again by close()). ``loader``: see the module doc.

        The pool, sized from the cluster when the first batch comes: with GPUs, one worker per
        ``gpus_per_worker`` (default 1) GPU; without, one worker per node holding all its CPUs (torch
        spreads a batch over them, as the local runner does), or with ``cpus_per_worker``, one per that
        many CPUs. ``workers`` caps the count. ``threads``: torch threads per worker (default: on the
        driver's machine, the local runner's count, so images are bit-identical to a local build;
        elsewhere, the worker's CPUs). ``depth``: batches queued per worker.

        Nothing starts until the first batch: a build with nothing to render touches no cluster."""
        self.model, self.video, self.loader, self.address = model, video, loader, address
        self.workers, self.gpus_per_worker, self.cpus_per_worker, self.threads = workers, gpus_per_worker, cpus_per_worker, threads
        self.max_retries, self.depth, self.startup_timeout_s = max_retries, max(1, depth), startup_timeout_s
        self.init_kwargs = init_kwargs or {}
        self.out = out or sys.stderr
        self.started = self.started_ray = self.closed = False
        self.actors: list = []
        self.slots: list[dict] = []  # each actor's resources and placement, reused when it is replaced
        self.inflight: dict = {}  # ObjectRef -> (batch number, batch, slot, actor)
        self.stats = {"retried": 0, "replaced": 0, "lost_batches": 0}

    # ---- cluster and pool ----------------------------------------------------------------------

    def start(self) -> None:
        """Connect (or start a local Ray), size the pool, start the actors, wait for the first one."""
        if self.started:
            return
        self.started = True
        self.connect(self.address, self.init_kwargs)
        self.driver = {"node": ray.util.get_node_ip_address(), "threads": torch.get_num_threads()}
        self.slots = self.plan_slots(ray.cluster_resources())
        self.actor_class = ray.remote(RenderWorker)
        self.shipped = None if self.loader is not None else ray.put(cpu_copy(self.model))
        self.actors = [self.new_actor(slot) for slot in self.slots]
        self.check_ready(self.startup_timeout_s)
        sizes = sorted({f"{s['num_gpus']:g} GPU" if s["num_gpus"] else f"{s['num_cpus']:g} CPU" for s in self.slots})
        where = f"the Ray cluster at {self.address}" if self.address else (
            "a local Ray instance" if self.started_ray else "the connected Ray cluster")
        threads = sorted({i["threads"] for i in self.workers_info})
        tqdm.write(f"atlas: ray: {len(self.slots)} worker(s) ({' / '.join(sizes)} each, torch threads "
                   f"{'/'.join(map(str, threads))}) on {where}", file=self.out)

    def plan_slots(self, resources: dict) -> list[dict]:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        gpus = self.gpus_per_worker
        if gpus is None:
            gpus = 1 if resources.get("GPU", 0) >= 1 else 0
        if gpus:
            count = max(1, int(resources["GPU"] / gpus))
            slots = [{"num_cpus": 1, "num_gpus": gpus, "scheduling_strategy": "SPREAD"}] * count
        elif self.cpus_per_worker:
            count = max(1, int(resources.get("CPU", 1) / self.cpus_per_worker))
            slots = [{"num_cpus": self.cpus_per_worker, "num_gpus": 0, "scheduling_strategy": "SPREAD"}] * count
        else:  # one per node; soft: a replacement may go elsewhere when its node is gone
            nodes = [n for n in ray.nodes() if n.get("Alive") and n["Resources"].get("CPU", 0) >= 1]
            slots = [{"num_cpus": int(n["Resources"]["CPU"]), "num_gpus": 0,
                      "scheduling_strategy": NodeAffinitySchedulingStrategy(n["NodeID"], soft=True)} for n in nodes]
            if not slots:
                raise AtlasError(f"the Ray cluster has no CPU to render on: {resources}")
        return slots[: self.workers] if self.workers else slots

    def connect(self, address: str | None, init_kwargs: dict) -> None:
        if ray.is_initialized():  # the caller connected already (a notebook, a test): use it, leave it running
            return
        address = address or os.environ.get("RAY_ADDRESS") or None
        kwargs = {"log_to_driver": False, "logging_level": logging.WARNING, **init_kwargs}
        if address is None:  # a private instance on this machine, without the dashboard
            kwargs = {"address": "local", "include_dashboard": False, **kwargs}
        else:
            kwargs["address"] = address
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise AtlasError(f"cannot connect to {where}: {first_line(exc)}") from None
        self.started_ray = True

    def new_actor(self, slot: dict):
        return self.actor_class.options(**slot, max_restarts=0, max_task_retries=0).remote(
            self.shipped, self.loader, self.model.identity, self.threads, slot["num_cpus"], self.driver)

    def check_ready(self, timeout_s: float) -> None:
        """Wait for the first worker (others may still be starting, e.g. on nodes an autoscaler adds);
        a worker that cannot load the model stops the build with its reason."""
        refs = [a.ready.remote() for a in self.actors]
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout_s)
        if not ready:
            need = {(s["num_cpus"], s["num_gpus"]) for s in self.slots}
            raise AtlasError(f"no Ray worker started within {timeout_s:.0f} s; cluster resources: {ray.cluster_resources()}; "
                             f"workers need (CPU, GPU): {sorted(need)}")
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=1.0)
        self.workers_info = []
        for ref in ready:
            try:
                info = ray.get(ref)
            except ray.exceptions.RayError as exc:  # e.g. the model's classes cannot be imported there
                raise AtlasError(f"a Ray worker could not start: {first_line(exc)}") from None
            if info["error"]:
                raise AtlasError(f"a Ray worker on {info['node']} could not load the model: {info['error']}")
            self.workers_info.append(info)

    def replace(self, slot: int, dead) -> None:
        if self.actors[slot] is not dead:  # another failed task of the same actor replaced it already
            return
        try:
            ray.kill(dead, no_restart=True)
        except Exception:  # noqa: BLE001 -- it is gone either way
            pass
        self.actors[slot] = self.new_actor(self.slots[slot])
        self.stats["replaced"] += 1

    # ---- running -------------------------------------------------------------------------------

    def run(self, batches, on_step=None) -> Iterator[list[tuple]]:
        """Yield one list of (job, meta, files) per batch as batches finish. ``on_step`` is not supported
        across processes and is ignored. Stopping the iteration cancels what is still running."""
        queue = deque(enumerate(batches))
        if not queue:
            return
        attempts: dict[int, int] = {}
        try:
            self.start()
            load = [0] * len(self.actors)
            while queue or self.inflight:
                while queue and min(load) < self.depth:
                    slot = load.index(min(load))
                    n, batch = queue.popleft()
                    ref = self.actors[slot].render.remote(batch, self.video)
                    self.inflight[ref] = (n, batch, slot, self.actors[slot])
                    load[slot] += 1
                ready, _ = ray.wait(list(self.inflight), num_returns=1)
                n, batch, slot, actor = self.inflight.pop(ready[0])
                load[slot] -= 1
                try:
                    results = ray.get(ready[0])
                except ray.exceptions.RayTaskError as exc:  # the task raised; its worker is fine
                    failure = f"render failed on a Ray worker: {first_line(exc)}"
                except ray.exceptions.RayError as exc:  # the worker died, its node left, or the result is lost
                    failure = f"worker lost: {first_line(exc)}"
                    self.replace(slot, actor)
                else:
                    yield results
                    continue
                attempts[n] = attempts.get(n, 0) + 1
                if attempts[n] <= self.max_retries:
                    self.stats["retried"] += 1
                    queue.appendleft((n, batch))
                else:
                    self.stats["lost_batches"] += 1
                    yield self.failed(batch, f"{failure} (tried {attempts[n]} times)")
        finally:
            self.cancel()

    def failed(self, batch, error: str) -> list[tuple]:
        return package_all(self.model.identity, batch, [RenderResult(job.target, error=error) for job in batch], self.video)

    def cancel(self) -> None:
        for ref in list(self.inflight):
            try:
                ray.cancel(ref)
            except Exception:  # noqa: BLE001 -- best effort: the actors are killed next anyway
                pass
        self.inflight.clear()

    def close(self) -> None:
        """Cancel outstanding tasks, kill the actors, stop Ray if this runner started it. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if not ray.is_initialized():
            return
        self.cancel()
        for actor in self.actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001
                pass
        self.actors = []
        if self.stats["replaced"] or self.stats["retried"]:
            tqdm.write(f"atlas: ray: {self.stats['replaced']} worker(s) lost and replaced, {self.stats['retried']} "
                       f"batch retries, {self.stats['lost_batches']} batch(es) given up", file=self.out)
        if self.started_ray:
            ray.shutdown()


def cpu_copy(model):
    """The model as workers get it: on the CPU (they move it to their own device)."""
    if model.device.type == "cpu":
        return model
    return copy.deepcopy(model).to("cpu")
