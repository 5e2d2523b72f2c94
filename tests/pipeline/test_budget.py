"""The time budget: a batch is started only when it is expected to finish in time, judged by the batches before it."""

from generator.pipeline.budget import TimeBudget


def test_no_budget_allows_everything():
    assert TimeBudget.minutes(None).allows(10**9)


def test_the_first_estimate_stands_in_until_batches_are_measured(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr("generator.pipeline.budget.time.monotonic", lambda: clock[0])
    b = TimeBudget.minutes(1, per_image_step=0.01)  # 60 s; the probe said 10 ms per image-step
    assert b.allows(1000)  # 10 s expected
    clock[0] = 50.0
    b.record(1000, 50.0)  # that batch really took 50 ms per image-step
    assert b.estimate(200) == 10.0  # the measured rate replaces the probe's
    assert b.allows(100)  # 50 + 5 <= 60
    assert not b.allows(300)  # 50 + 15 > 60: stop here
    assert not b.allows(1) and b.exhausted  # and stay stopped: no small batch squeezed in after a refusal
