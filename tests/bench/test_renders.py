"""The ladder's seeds: a row gets ROW_SEEDS renders per class and the ladder's class CLASS_SEEDS, and a reused row
renders only the seeds it lacks."""

from generator.bench import ladder, renders
from generator.engine.recipe import stage_recipe


def fake_scores(calls):
    def scores_by_seed(model, judge, recipe, indices, seeds, batch):
        seeds = list(seeds)
        calls.append((list(indices), seeds))
        return {i: [{"p": s / 10 + i / 1000, "top1": s % 2 == 0, "top5": True} for s in seeds] for i in indices}
    return scores_by_seed


def test_a_new_row_gets_every_seed_and_a_reused_one_only_the_missing(monkeypatch):
    calls = []
    monkeypatch.setattr(renders, "scores_by_seed", fake_scores(calls))
    recipe = stage_recipe("robust")
    row = {"name": "robust", "per_class": [{"index": 1, "p": 0.5}, {"index": 2, "p": 0.25}]}
    report = {}
    renders.seed_ladder_row(report, row, recipe, 8, {"p": 0.0, "top1": True, "top5": True}, None, None, 4)
    assert calls == [([1, 2], list(range(1, ladder.ROW_SEEDS))), ([8], list(range(1, ladder.CLASS_SEEDS)))]
    assert [len(c["seeds"]) for c in row["per_class"]] == [ladder.ROW_SEEDS] * 2 and row["per_class"][0]["seeds"][0] == 0.5
    on_hen = report["ladder_class"]["stages"]["robust"]
    assert len(on_hen["seeds"]) == ladder.CLASS_SEEDS and on_hen["seeds"][1] == 0.108

    calls.clear()  # reused: class 1 has one seed fewer than a full row, class 2 all of them, hen all of its own
    row["per_class"][0]["seeds"].pop()
    renders.seed_ladder_row(report, row, recipe, 8, on_hen, None, None, 4)
    assert calls == [([1], [ladder.ROW_SEEDS - 1])]
    assert [len(c["seeds"]) for c in row["per_class"]] == [ladder.ROW_SEEDS] * 2
    assert report["ladder_class"]["stages"]["robust"] == on_hen


def test_a_row_no_step_reads_keeps_its_own_render(monkeypatch):
    calls = []
    monkeypatch.setattr(renders, "scores_by_seed", fake_scores(calls))
    row = {"name": "sgd", "per_class": [{"index": 1, "p": 0.5}]}
    report = {}
    renders.seed_ladder_row(report, row, stage_recipe("sgd"), 8, {"p": 0.0, "top1": True, "top5": True}, None, None, 4)
    assert calls == [([8], list(range(1, ladder.CLASS_SEEDS)))]  # hen's seeds only: the recipe page shows every stage
    assert row["per_class"][0]["seeds"] == [0.5]
    assert ladder.row_seeds("l2") == ladder.ROW_SEEDS and ladder.row_seeds("fourier") == 1
