"""The `atlas` command line. Every user mistake is one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from generator.errors import AtlasError

EXIT_USER_ERROR = 2


def add_recipe_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recipe", default="full", help="ladder stage: naive, sgd, gray-init, robust, l2, blur, fourier, full (default: full)")
    p.add_argument("--steps", type=int, help="optimization steps (default: the recipe's)")
    p.add_argument("--size", type=int, help="image side in px (default: the recipe's)")
    p.add_argument("--seed", type=int, help="random seed (default: 0)")
    p.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                   help="override any recipe knob, e.g. --set lr=0.03 --set blur_every=8 (repeatable)")


def recipe_from_args(args):
    from generator.config import parse_knob
    from generator.recipe import stage_recipe

    overrides = {k: v for k, v in (("steps", args.steps), ("size", args.size), ("seed", args.seed)) if v is not None}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise AtlasError(f"--set expects KNOB=VALUE, got {item!r}")
        overrides[key.strip()] = parse_knob(key.strip(), value.strip())
    return stage_recipe(args.recipe, **overrides)


def cmd_render(args) -> int:
    from generator.models import DEFAULT_MODEL, OFFLINE_MODEL, load_model

    recipe = recipe_from_args(args)
    explicit = args.model is not None
    model = load_model(args.model or DEFAULT_MODEL, fallback=None if explicit else OFFLINE_MODEL,
                       device=args.device, warn=lambda m: print(m, file=sys.stderr))
    failed = render_targets(model, args.targets, recipe, Path(args.out), batch_size=args.batch)
    return 1 if failed else 0


def render_targets(model, texts: list[str], recipe, out: Path, batch_size: int) -> int:
    """`atlas render`: final PNG, frames and metrics.json per target under out/<target id>/. Returns failures."""
    import imageio.v3 as iio

    from generator.render import render_batch
    from generator.targets import resolve_targets

    targets = resolve_targets(texts, model)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AtlasError(f"cannot write to {out}: {exc.strerror}") from None
    failed = 0
    print(f"atlas: rendering {len(targets)} target(s) with {model.name} on {model.device}, recipe {recipe.stage}, "
          f"{recipe.steps} steps at {recipe.size} px", file=sys.stderr)
    for start in range(0, len(targets), batch_size):
        for r in render_batch(model, targets[start:start + batch_size], recipe):
            folder = out / r.target.id
            (folder / "frames").mkdir(parents=True, exist_ok=True)
            meta = {"target": r.target.describe(), "model": model.identity, "recipe": recipe.knobs(), **r.metrics()}
            (folder / "metrics.json").write_text(json.dumps(meta, indent=1))
            if not r.ok:
                failed += 1
                print(f"atlas: {r.target.label}: failed: {r.error}", file=sys.stderr)
                continue
            iio.imwrite(folder / "final.png", r.image)
            for step, frame in r.frames:
                iio.imwrite(folder / "frames" / f"step-{step:04d}.png", frame)
            best = r.top5[0]
            print(f"{r.target.label}: {folder / 'final.png'}  top-1 {best['label']} ({best['prob']:.1%}), "
                  f"{r.seconds:.1f} s")
    return failed


def cmd_layers(args) -> int:
    from generator.models import load_model

    model = load_model(args.model, weights=None if args.random_weights else "DEFAULT")
    channels = model.layer_channels()
    modules = dict(model.net.named_modules())
    width = max(len(n) for n in channels)
    for name, c in channels.items():
        print(f"{name:<{width}}  {c:>5}  {type(modules[name]).__name__}")
    return 0


def cmd_build(args) -> int:
    from generator.build import load_build_model, run_build
    from generator.config import load_config
    from generator.runners import make_runner_factory

    config = load_config(Path(args.config))
    factory = make_runner_factory(args.runner, address=args.address)
    model = load_build_model(config, args.model, args.device)
    gpu = str(args.device).startswith("cuda")
    batch = args.batch or (config.build.gpu_batch if gpu else config.build.batch)
    report = run_build(config, Path(args.store), None if args.no_site else Path(args.out), model=model,
                       runner_factory=factory, device_name=str(args.device), batch_size=batch,
                       retry_failed=args.retry_failed, limit=args.limit)
    return report.exit_code


def cmd_site(args) -> int:
    from generator.site import build_site

    info = build_site(Path(args.store), Path(args.out))
    print(f"atlas: site in {args.out}/: {info}", file=sys.stderr)
    return 0


def cmd_bench(args) -> int:
    from generator.bench import main as bench_main

    return bench_main(args.bench_args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atlas", description="Feature Atlas: render class and channel visualizations into a static site.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("render", help="render targets to images, frames and metrics",
                       description="Render classes (index, label or WordNet id) and hidden channels (LAYER:CHANNEL).")
    p.add_argument("targets", nargs="+", metavar="TARGET", help="e.g. 8, hen, n01514859, layer4.1:37")
    p.add_argument("--model", help="model name (default: resnet18, falling back to efficientnet_lite0 offline)")
    add_recipe_args(p)
    p.add_argument("--out", default="out", help="output folder (default: out/)")
    p.add_argument("--batch", type=int, default=8, help="targets per batch (default: 8)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("build", help="render what is missing from the atlas and rebuild the site (make atlas)",
                       description="Plan the atlas from a config, render missing jobs into the store, rebuild the site.")
    p.add_argument("--config", default="content/atlas.toml", help="atlas config (default: content/atlas.toml)")
    p.add_argument("--store", default=".atlas-cache", help="artifact store (default: .atlas-cache/)")
    p.add_argument("--out", default="site", help="site folder (default: site/)")
    p.add_argument("--model", help="override the config's model (never falls back)")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--batch", type=int, help="targets per batch (default: the config's batch / gpu_batch)")
    p.add_argument("--runner", default="local", choices=["local", "ray"], help="where jobs run (default: local)")
    p.add_argument("--address", help="Ray cluster address (with --runner ray; default: start a local one)")
    p.add_argument("--retry-failed", action="store_true", help="render failed jobs again")
    p.add_argument("--limit", type=int, help="render at most N missing jobs this run")
    p.add_argument("--no-site", action="store_true", help="only render into the store")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("site", help="re-template site/ from the store alone (no torch, seconds)")
    p.add_argument("--store", default=".atlas-cache", help="artifact store (default: .atlas-cache/)")
    p.add_argument("--out", default="site", help="site folder (default: site/)")
    p.set_defaults(func=cmd_site)

    p = sub.add_parser("bench", help="quality and speed benchmark (make bench); `atlas bench --help` for options",
                       add_help=False)
    p.add_argument("bench_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("layers", help="list a model's addressable layers and channel counts")
    p.add_argument("model", help="model name, e.g. resnet18 or efficientnet_lite0")
    p.add_argument("--random-weights", action="store_true", help="skip loading weights (names and counts do not depend on them)")
    p.set_defaults(func=cmd_layers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "device", "unset") is None:
        args.device = default_device()
    try:
        return args.func(args)
    except AtlasError as exc:
        print(f"atlas: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("atlas: interrupted", file=sys.stderr)
        return 130


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


if __name__ == "__main__":
    sys.exit(main())
