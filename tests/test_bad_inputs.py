"""Every bad input, one row each: what `atlas` is given, the exit code it must give and the one line it must say.

A row runs `atlas ARGS...` in this process (``generator.cli.main``) in a fresh folder ({tmp} in ARGS) holding the
row's files, after its setup. An error row must exit non-zero with exactly one line on stderr, ``atlas: error:``
followed by the row's message, and no traceback; a row with exit 0 (a corrupt store is not an error: its jobs are
shown as pending and rendered again) must say the message somewhere on stderr. No row may load weights: config
and target checks run against the model's architecture alone, before any weights load.

Adding a case is adding a row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import generator.engine.models as models
import generator.pipeline.build as build
from generator.cli import main
from generator.pipeline.store import Store
from tests.synthetic_store import make_store

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Case:
    id: str
    args: list[str]
    message: str
    code: int = 2
    files: dict[str, str] = field(default_factory=dict)  # relative path -> text, written before the run
    setup: object = None  # callable(tmp: Path), run before the run


def config(id: str, text: str, message: str, **kw) -> Case:
    """`atlas build` on a config file holding ``text``; ``message`` follows the file's name (":LINE: ...")."""
    args = ["build", "--config", "{tmp}/atlas.toml", "--store", "{tmp}/store", "--no-site", "--device", "cpu"]
    return Case(id, args, "atlas.toml" + message, files={"atlas.toml": text}, **kw)


def store_with_hen(tmp: Path) -> Path:
    return make_store(tmp / "store", classes=[8], channels=False, ladder=False)


def hen_meta(change):
    """Setup: a store with hen done, then ``change(meta, folder)`` applied to hen's meta.json."""
    def setup(tmp: Path):
        store = Store(store_with_hen(tmp))
        folder = store.jobs / store.read_manifest().classes[0].key
        meta = json.loads((folder / "meta.json").read_text())
        change(meta, folder)
        (folder / "meta.json").write_text(json.dumps(meta))
    return setup


def set_in(path: str, value):
    """A change that sets meta[a][b]... = value, for ``path`` "a.b"."""
    def change(meta, folder):
        *parents, last = path.split(".")
        target = meta
        for p in parents:
            target = target[p]
        target[last] = value
    return change


def link_out_of_store(meta, folder):
    """hen's poster replaced by a link to a file outside the store (same size, so the store still trusts it)."""
    outside = folder.parents[2] / "secret.jpg"
    outside.write_bytes((folder / "poster.jpg").read_bytes())
    (folder / "poster.jpg").unlink()
    (folder / "poster.jpg").symlink_to(outside)


def write_manifest(text: str):
    def setup(tmp: Path):
        (tmp / "store").mkdir()
        (tmp / "store" / "manifest.json").write_text(text)
    return setup


def foreign_site(tmp: Path):
    store_with_hen(tmp)
    (tmp / "site").mkdir()
    (tmp / "site" / "precious.txt").write_text("do not delete me")


SITE = ["site", "--store", "{tmp}/store", "--out", "{tmp}/site"]
EXPORT = ["export", "hen", "--to", "{tmp}/blog/static/atlas", "--store", "{tmp}/store"]

CASES = [
    # ---- command-line options
    Case("--set steps=abc", ["render", "hen", "--set", "steps=abc"], "steps must be a whole number, got 'abc'"),
    Case("--set scale=1.1", ["render", "hen", "--set", "scale=1.1"], "scale must be [min, max]: 2 finite numbers, got 1.1"),
    Case("--set lr=nan", ["render", "hen", "--set", "lr=nan"], "lr must be a finite number, got 'nan'"),
    Case("--set steps=2.5", ["render", "hen", "--set", "steps=2.5"], "steps must be a whole number, got 2.5"),
    Case("--set lr (no value)", ["render", "hen", "--set", "lr"], "--set expects KNOB=VALUE"),
    Case("--set unknown knob", ["render", "hen", "--set", "lrr=1"], "unknown recipe setting 'lrr'"),
    Case("render superscript two", ["render", "²"], "unknown class '²'"),
    Case("embed superscript two", ["embed", "²", "--store", "{tmp}/store"], "unknown class '²'"),
    Case("render layer:superscript", ["render", "layer4.1:³"], "unknown class 'layer4.1:³'"),
    Case("--batch 0", ["render", "hen", "--batch", "0"], "argument --batch: 0 must be >= 1"),
    Case("--batch -1", ["render", "hen", "--batch", "-1"], "argument --batch: -1 must be >= 1"),
    Case("--time-budget 0", ["build", "--time-budget", "0"], "argument --time-budget: '0' must be a number of minutes > 0"),
    Case("--time-budget abc", ["build", "--time-budget", "abc"], "argument --time-budget: 'abc' is not a number of minutes"),
    Case("--time-budget nan", ["build", "--time-budget", "nan"], "argument --time-budget: 'nan' must be a number of minutes"),
    Case("--steps abc", ["render", "hen", "--steps", "abc"], "argument --steps: 'abc' is not a whole number"),
    Case("--device bogus", ["render", "hen", "--device", "bogus"], "unknown device 'bogus'"),
    Case("--device cuda:7", ["render", "hen", "--device", "cuda:7"], "device 'cuda:7' is not available here"),
    Case("ambiguous class", ["render", "crane"], "'crane' is ambiguous"),
    Case("misspelled class", ["render", "hne"], "unknown class 'hne'"),
    Case("unknown layer", ["render", "nolayer:3"], "unknown layer 'nolayer' in resnet18"),
    Case("channel out of range", ["render", "layer4.1:512"], "channel 512 out of range for resnet18 layer4.1 (0..511)"),
    Case("unknown stage", ["render", "hen", "--recipe", "nope"], "unknown recipe stage 'nope'"),
    Case("unwritable --out", ["render", "hen", "--out", "/proc/atlas-out"], "cannot write to /proc/atlas-out"),
    Case("unknown model", ["layers", "resnet19"], "unknown model 'resnet19'"),
    Case("build --limit -1", ["build", "--limit", "-1"], "argument --limit: -1 must be >= 0"),
    Case("unknown command", ["rendr"], "argument COMMAND: invalid choice: 'rendr'"),
    # ---- the benchmark
    Case("bench --merge missing", ["bench", "--merge", "{tmp}/missing.json"], "cannot read {tmp}/missing.json: No such file"),
    Case("bench --merge not a report", ["bench", "--merge", "{tmp}/x.json"], "is not a benchmark report",
         files={"x.json": '{"rows": 1}'}),
    Case("bench --part 1/0", ["bench", "--part", "1/0"], "argument --part: '1/0' is not K/N with 0 <= K < N"),
    Case("bench --part 2/2", ["bench", "--part", "2/2"], "argument --part: '2/2' is not K/N"),
    Case("bench --device bogus", ["bench", "--device", "bogus"], "unknown device 'bogus'"),
    Case("measure-site: not a site", ["measure-site", "{tmp}", "--no-browser"], "holds no index.html: not a built site"),
    Case("measure-site --runs 0", ["measure-site", "{tmp}", "--runs", "0"], "argument --runs: 0 must be >= 1"),
    Case("config file missing", ["build", "--config", "{tmp}/none.toml"], "none.toml: cannot read config (No such file"),
    # ---- config files: file:line, the key, and what it must be
    config("invalid TOML", "title = 'x'\n[recipe\nsteps = 3\n", ": invalid TOML"),
    config("unknown top-level key", "title = 'x'\ncolour = 1\n", ":2: unknown key 'colour'"),
    config("unknown key in a table", "[video]\nfps = 20\nsize = 3\n", ":3: unknown key 'size' in [video]"),
    config("misspelled knob", "title = 'x'\n\n[recipe]\nstage = 'full'\nstpes = 3\n", ":5: unknown recipe setting 'stpes'"),
    config("unknown stage", "[recipe]\nstage = 'bogus'\n", ":2: [recipe] stage: unknown recipe stage 'bogus'"),
    config("recipe at the top level", 'recipe = "full"\n', ':1: recipe must be a table: write [recipe] and under it stage = "full"'),
    config("batch a string", '[build]\nbatch = "8"\n', ':2: [build] batch must be a whole number >= 1, got "8"'),
    config("site_every 0", "[build]\nsite_every = 0\n", ":2: [build] site_every must be a whole number >= 1, got 0"),
    config("fps 0", "[video]\nfps = 0\n", ":2: [video] fps must be a whole number 1..240, got 0"),
    config("crf 99", "[video]\ncrf = 99\n", ":2: [video] crf must be a whole number 0..51, got 99"),
    config("hold_s nan", "[video]\nhold_s = nan\n", ":2: [video] hold_s must be a number 0..600, got nan"),
    config("lr inf", "[recipe]\nlr = inf\n", ":2: [recipe] lr must be a finite number, got inf"),
    config("optimizer unknown", "[recipe]\noptimizer = 'lbfgs'\n", ":2: [recipe] optimizer must be 'adam' or 'sgd'"),
    config("param unknown", "[recipe]\nparam = 'wavelet'\n", ":2: [recipe] param must be 'pixel' or 'fourier'"),
    config("steps a float", "[recipe]\nsteps = 2.5\n", ":2: [recipe] steps must be a whole number, got 2.5"),
    config("ladder target channel out of range", '[ladder]\ntarget = "layer4.1:9999"\n',
           ":2: [ladder] target: channel 9999 out of range for resnet18 layer4.1 (0..511)"),
    config("ladder target unknown layer", '[ladder]\ntarget = "layer9:1"\n', ":2: [ladder] target: unknown layer 'layer9'"),
    config("explicit channels a string", '[channels]\nexplicit = {"layer4.1" = "37"}\n',
           ':2: [channels] explicit must be a table of layer = [channel, ...]'),
    config("explicit channel out of range", '[channels]\nexplicit = {"layer4.1" = [37, 600]}\n',
           ":2: [channels] explicit: channel 600 out of range for resnet18 layer4.1"),
    config("classes [true]", "classes = [true]\n", ':1: classes must be "all" or a list of class indices'),
    config("classes unknown", 'classes = [8, "hne"]\n', ":1: classes: unknown class 'hne'"),
    config("classes out of range", "classes = [1000]\n", ":1: classes: class index 1000 out of range 0..999"),
    config("classes hold a channel", 'classes = ["layer4.1:3"]\n', ":1: classes: 'layer4.1:3' is a channel, not a class"),
    config("stages a string", '[ladder]\nstages = "full"\n', ':2: [ladder] stages must be a list of stages'),
    config("stages unknown", '[ladder]\nstages = ["naive", "ful"]\n', ":2: [ladder] stages must be a list of known stages"),
    config("seeds a string", "seeds = 'zero'\n", ":1: seeds must be a non-empty list of whole numbers"),
    config("per_stage negative", "[channels]  # a comment\nper_stage = -1\n", ":2: [channels] per_stage must be a whole number >= 0"),
    config("unknown model", '[model]\nname = "resnet19"\n', ":2: [model] name: unknown model 'resnet19'"),
    config("per_class over 16", "[channels]\nper_class = 17\n", ":2: [channels] per_class must be a whole number 0..16, got 17"),
    config("per_class a string", '[channels]\nper_class = "3"\n', ':2: [channels] per_class must be a whole number 0..16, got "3"'),
    config("samples unknown key", "[samples]\nclasses = [8]\nseed = [1]\n", ":3: unknown key 'seed' in [samples]"),
    config("samples seeds a string", "[samples]\nclasses = [8]\nseeds = '1'\n", ':3: [samples] seeds must be a list of whole numbers without repeats'),
    config("samples seeds repeat", "[samples]\nclasses = [8]\nseeds = [0, 1, 1]\n", ":3: [samples] seeds must be a list of whole numbers without repeats, e.g. [0, 1, 2], got [0, 1, 1]"),
    config("samples classes unknown", '[samples]\nclasses = ["hne"]\nseeds = [1]\n', ":2: [samples] classes: unknown class 'hne'"),
    config("samples classes a channel", '[samples]\nclasses = ["layer4.1:3"]\nseeds = [1]\n', ":2: [samples] classes: 'layer4.1:3' is a channel, not a class"),
    config("samples class not in the atlas", "classes = [8]\n[samples]\nclasses = [1]\nseeds = [1]\n", ":3: [samples] classes: 1 is not one of the atlas's classes"),
    config("samples classes without seeds", "[samples]\nclasses = [8]\n", ":2: [samples] classes: give their seeds too"),
    config("samples seeds without classes", "[samples]\nseeds = [1, 2]\n", ":2: [samples] seeds: name the classes they are for"),
    config("section not a table", "video = 3\n", ":1: 'video' must be a table"),
    # ---- the store and the site
    Case("site: no store", SITE, "the store does not exist"),
    Case("site: no manifest", SITE, "no manifest.json", setup=lambda tmp: (tmp / "store").mkdir()),
    Case("site: corrupt manifest", SITE, "corrupt manifest", setup=write_manifest('{"schema": 1, "classes": [')),
    Case("site: manifest of another schema", SITE, "manifest schema 99", setup=write_manifest('{"schema": 99}')),
    Case("site: manifest with a bad entry", SITE, "bad entry",
         setup=write_manifest('{"schema": 1, "model": {}, "recipe": {}, "classes": [{"key": "x"}]}')),
    Case("site: --out is a file", SITE, "is a file", files={"site": "i am a file"}, setup=store_with_hen),
    Case("site: --out a foreign folder", SITE, "refusing to build the site into", setup=foreign_site),
    Case("site: meta.json files a list", SITE, "invalid job folder", code=0, setup=hen_meta(set_in("files", []))),
    Case("site: meta.json metrics a list", SITE, "invalid job folder", code=0, setup=hen_meta(set_in("metrics", [1]))),
    Case("site: meta.json top5 a dict", SITE, "invalid job folder", code=0, setup=hen_meta(set_in("metrics.top5", {}))),
    Case("site: meta.json error a number", SITE, "invalid job folder", code=0, setup=hen_meta(set_in("error", 3))),
    Case("site: meta.json bytes a string", SITE, "invalid job folder", code=0,
         setup=hen_meta(set_in("files.video.bytes", "12"))),
    Case("site: meta.json width a string", SITE, "invalid job folder", code=0,
         setup=hen_meta(set_in("files.final.width", "224"))),
    Case("site: meta.json names an absolute file", SITE, "invalid job folder", code=0,
         setup=hen_meta(set_in("files.final.name", "/etc/hostname"))),
    Case("site: a job's file links out of the store", SITE, "leads out of the store", code=0,
         setup=hen_meta(link_out_of_store)),
    Case("export: meta.json names an absolute file", EXPORT, "hen is pending in the store (",
         setup=hen_meta(set_in("files.final.name", "/etc/hostname"))),
    Case("export: a job's file links out of the store", EXPORT, "its 'poster' file leads out of the store), nothing",
         setup=hen_meta(link_out_of_store)),
    Case("content runs code", SITE, "about.md: SecurityError: access to attribute '__globals__'",
         files={"content/about.md": "{{ lipsum.__globals__['os'].getcwd() }}\n"}, setup=store_with_hen),
]


@pytest.fixture
def no_weights(monkeypatch):
    """Fail any load of weights: every check here must come before (architectures, with weights=None, are fine)."""
    def guarded(load):
        def load_model(name="resnet18", *, weights="DEFAULT", **kw):
            assert weights is None, f"weights of {name} loaded before the input was checked"
            return load(name, weights=weights, **kw)
        return load_model
    monkeypatch.setattr(models, "load_model", guarded(models.load_model))
    monkeypatch.setattr(build, "load_model", guarded(build.load_model))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_one_line_and_its_exit_code(case, tmp_path, monkeypatch, capsys, no_weights):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ATLAS_DEBUG", raising=False)
    for rel, text in case.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    if case.setup:
        case.setup(tmp_path)
    try:
        code = main([a.replace("{tmp}", str(tmp_path)) for a in case.args])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    err = capsys.readouterr().err
    message = case.message.replace("{tmp}", str(tmp_path))
    assert code == case.code, err
    assert "Traceback" not in err and message in err, err
    if case.code:
        assert err.startswith("atlas: error: ") and err.count("\n") == 1, err
    assert not list(tmp_path.glob("blog/static/atlas/media/*")), "nothing is exported from a doubtful job"
