"""A build in two phases: the ladder and the classes first; then, once the classes are rendered and measured, the
channels they are made of (``[channels] per_class``), in the same store and build.

The second phase's jobs are not known before the first has run, so the plan is made again as classes finish:
``plan_build`` measures the done classes the cache lacks (an older store's, or a deleted cache) and plans with
what is measured. Before the first class renders, ``coming_channels`` guesses the channel jobs to come from the
classifier's weights (the weight view of the classes not measured yet), so the first line's time estimate includes
them. A build stopped partway plans with what is measured so far: fewer channels, nothing broken.
"""

from __future__ import annotations

from generator.pipeline.class_channels import Contributions
from generator.pipeline.config import AtlasConfig
from generator.pipeline.plan import Job, Plan, make_plan
from generator.pipeline.store import Store


def contributions_for(config: AtlasConfig, model, store: Store, say) -> Contributions | None:
    """The measurements a build needs: None when it renders no channels per class (or the model cannot say)."""
    if not config.channels.per_class:
        return None
    links = Contributions(model, store)
    if links.weights is None:
        say(f"atlas: [channels] per_class: {model.name} has no layer that its classifier averages; no channels "
            f"are chosen per class")
        return None
    return links


def plan_build(config: AtlasConfig, model, links: Contributions | None, measure: bool = True) -> Plan:
    """The plan with every measured class's channels; ``measure``: first measure the done classes the cache lacks."""
    plan = make_plan(config, model)
    if links is None:
        return plan
    if measure:
        links.measure(plan.class_keys)
    return make_plan(config, model, links.channels(plan.class_keys))


def first_phase(todo: list[Job], links: Contributions | None) -> list[Job]:
    """What renders before the plan is made again: while classes are still to render, everything but the channels
    (which channels a class is made of, and which the cap keeps, is known once this run's classes are measured;
    channels planned from an older measurement would partly be dropped again)."""
    if links is None or not any(j.role == "class" for j in todo):
        return todo
    return [j for j in todo if j.role != "channel"]


def coming_channels(config: AtlasConfig, model, links: Contributions | None, plan: Plan, store: Store,
                    first: list[Job]) -> list[Job]:
    """The channel jobs the second phase will probably render: the plan made with the weight view standing in for
    the classes not measured yet (an estimate: measured channels differ from the weight view for some classes)."""
    if links is None:
        return []
    guess = make_plan(config, model, links.channels(plan.class_keys).forecast())
    now = {j.key for j in first}
    return [j for j in guess.jobs if j.role == "channel" and j.key not in now and store.status(j.key) == "missing"]


def measure_done(links: Contributions | None, plan: Plan, jobs: list[Job]) -> None:
    """Measure the main class jobs among ``jobs`` (just stored): one forward pass, so the cache is always current
    and a stopped build loses no measurement."""
    if links is not None:
        mains = {j.target.index: j.key for j in jobs if j.role == "class" and plan.class_keys.get(j.target.index) == j.key}
        links.measure(mains)
