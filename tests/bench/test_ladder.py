"""The ladder's steps: each stage read against the one before it, class by class."""

import pytest

from generator.bench import ladder


def row(name, ps, sample="ablation", kind="stage"):
    return {"name": name, "kind": kind, "sample": sample,
            "per_class": [{"index": i, "p": p} for i, p in enumerate(ps)]}


def test_steps_pair_the_classes_and_skip_the_detour():
    rows = [row("naive", [0.0, 0.1, 0.2, 0.3]), row("sgd", [0.9, 0.9, 0.9, 0.9]),
            row("gray-init", [0.1, 0.2, 0.3, 0.4]),  # every class up by 0.1
            row("robust", [0.6, 0.0, 0.7, 0.0]),  # two up a lot, two down a lot
            row("l2", [0.5, 0.5, 0.5, 0.5], sample="eval"),  # another sample: no step
            row("full", [1.0, 1.0, 1.0, 1.0])]
    steps = ladder.ladder_steps(rows)
    assert [(s["before"], s["after"]) for s in steps] == [("naive", "gray-init"), ("gray-init", "robust")]
    rise, mixed = steps
    assert rise["delta_p"] == pytest.approx(0.1) and rise["up"] == 4 and rise["classes"] == 4
    assert rise["low"] == pytest.approx(0.1) and rise["high"] == pytest.approx(0.1) and rise["verdict"] == "rises"
    assert mixed["delta_p"] == pytest.approx(0.075) and mixed["up"] == 2
    assert mixed["low"] < 0 < mixed["high"] and mixed["verdict"] == "within noise"
    assert ladder.ladder_steps(rows) == steps  # a fixed seed: the same rows give the same intervals


def test_a_clear_fall_and_the_report_line():
    steps = ladder.ladder_steps([row("robust", [0.5, 0.6, 0.7]), row("l2", [0.1, 0.2, 0.2])])
    assert steps[0]["verdict"] == "falls" and steps[0]["up"] == 0
    line = ladder.markdown_line(steps)
    assert "robust -> l2 -0.433" in line and "0/3 up, falls" in line


def test_a_step_reads_the_mean_of_each_class_renders():
    one, two = row("robust", [0.2, 0.4]), row("l2", [0.1, 0.1])
    for c, seeds in zip(two["per_class"], ([0.1, 0.5], [0.1, 0.7])):  # its own render first, then seed 1
        c["seeds"] = seeds
    (step,) = ladder.ladder_steps([one, two])
    assert step["delta_p"] == pytest.approx(0.05) and step["renders"] == 1  # (0.3 - 0.2 + 0.4 - 0.4) / 2
    for c, seeds in zip(one["per_class"], ([0.2, 0.2], [0.4, 0.2])):
        c["seeds"] = seeds
    (step,) = ladder.ladder_steps([one, two])
    assert step["delta_p"] == pytest.approx(0.1) and step["renders"] == 2 and step["up"] == 2
    assert "the mean of its 2 renders" in ladder.markdown_line([step])


def test_the_ladder_class_is_the_mean_of_its_renders():
    scores = [{"p": 0.16, "top1": True, "top5": True, "judge_pred": 8}, {"p": 0.0, "top1": False, "top5": False},
              {"p": 0.2, "top1": True, "top5": True}, {"p": 0.04, "top1": False, "top5": True}]
    entry = ladder.on_class(scores)
    assert entry == {"p": pytest.approx(0.1), "top1": 0.5, "top5": 0.75, "seeds": [0.16, 0.0, 0.2, 0.04]}
