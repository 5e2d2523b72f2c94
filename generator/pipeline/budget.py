"""A build's time budget (``atlas build --time-budget MINUTES``): render while the next batch still fits.

The next batch's duration is estimated from the batches already run (seconds per image-step, times the next
batch's image-steps), so a budget is honoured to about one batch, whatever the machine; before the first batch,
the build's own first-line estimate stands in. What is left is rendered by the next run: the store resumes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


def image_steps(jobs) -> int:
    """What a batch of jobs costs, in the unit the budget measures: optimization steps summed over its targets."""
    return sum(j.recipe.steps for j in jobs)


@dataclass
class TimeBudget:
    seconds: float | None  # None: no budget
    per_image_step: float = 0.0  # the first estimate, replaced by measurements as batches finish
    started: float = field(default_factory=lambda: time.monotonic())
    spent_rendering: float = 0.0
    image_steps_done: int = 0
    exhausted: bool = False

    @classmethod
    def minutes(cls, minutes: float | None, per_image_step: float = 0.0) -> "TimeBudget":
        return cls(None if minutes is None else 60.0 * minutes, per_image_step)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def record(self, image_steps: int, seconds: float) -> None:
        """A batch finished: ``image_steps`` (targets x steps) took ``seconds``."""
        self.image_steps_done += image_steps
        self.spent_rendering += seconds

    def estimate(self, image_steps: int) -> float:
        rate = self.spent_rendering / self.image_steps_done if self.image_steps_done else self.per_image_step
        return rate * image_steps

    def allows(self, image_steps: int) -> bool:
        """Whether a batch of ``image_steps`` is expected to finish within the budget; once it does not, the
        budget stays exhausted (the build stops taking work and publishes what is done)."""
        if self.seconds is None:
            return True
        if not self.exhausted and self.elapsed() + self.estimate(image_steps) > self.seconds:
            self.exhausted = True
        return not self.exhausted
