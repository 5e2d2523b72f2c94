"""Contact sheets: every image of a benchmark row in one labelled grid, named after the row."""

from __future__ import annotations

import shutil
from pathlib import Path

from generator.bench.ladder import LADDER_CLASS, LADDER_ROWS
from generator.bench.look import contact_sheet
from generator.engine.recipe import MAIN_STAGES


def sheet_name(row: dict) -> str:
    slug = row["name"].replace(" w/o ", "-wo-").replace(" ", "-")
    home = "ablation" if row["name"] in LADDER_ROWS or row["kind"] == "without" else row["sample"]
    if row["name"] in MAIN_STAGES and row["sample"] == "ablation":
        home = None  # full runs on both samples: its ablation sheet says so
    suffix = "" if row["sample"] == home else f"-{row['sample']}"
    return f"sheet-{slug}{suffix}.jpg"


def sheet(row: dict, images, indices: list[int], out: Path) -> None:
    """sheet-<row>.jpg: every class of the row (the ladder's class last), labelled, misses in red."""
    per = {c["index"]: c for c in row["per_class"]}
    labels = [per[i]["label"] if i in per else LADDER_CLASS for i in indices]
    hits = [per[i].get("top1", True) if i in per else True for i in indices] if row["judge_top1"] is not None else None
    contact_sheet(images, labels, out / sheet_name(row), hits=hits)


def copy_sheet(source: Path, row: dict, out: Path) -> None:
    """A reused row's sheet, from the report it came from (when that folder has it), so every row's sheet in
    ``out`` shows the pictures its numbers were measured on."""
    src, dst = source / sheet_name(row), out / sheet_name(row)
    if src.is_file() and src.resolve() != dst.resolve():
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
