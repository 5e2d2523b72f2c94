"""A rendered result -> the bytes of its files and its metadata, ready for the store.

Runs wherever the render ran (in process, or on a cluster worker that has no shared filesystem),
so it returns bytes rather than writing into the store.
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from PIL import Image

from generator.pipeline.store import FILE_NAMES
from generator.pipeline.video import encode_progress, write_poster, write_thumbnail


def package(job, result, model_identity: dict, video: dict) -> tuple[dict, dict[str, bytes]]:
    """(meta, files) for one job. A failed result gives failed meta and no files."""
    meta = {
        "status": "done" if result.ok else "failed",
        "error": result.error,
        "role": job.role,
        "target": job.target.describe(),
        "model": model_identity,
        "recipe": job.recipe.record(),
        "metrics": result.metrics(),
        "timings": {"render_s": round(result.seconds, 3)},
        "files": {},
    }
    if not result.ok:
        return meta, {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="atlas-encode-") as tmp:
        tmp = Path(tmp)
        info = {
            "video": encode_progress([f for _, f in result.frames], tmp / FILE_NAMES["video"], fps=video["fps"],
                                     hold_s=video["hold_s"], crf=video["crf"]),
            "poster": write_poster(result.image, tmp / FILE_NAMES["poster"]),
            "thumb": write_thumbnail(result.image, tmp / FILE_NAMES["thumb"]),
        }
        buffer = io.BytesIO()
        Image.fromarray(result.image).save(buffer, format="PNG", optimize=True)
        files = {"final": buffer.getvalue()} | {role: (tmp / FILE_NAMES[role]).read_bytes() for role in info}
    h, w = result.image.shape[:2]
    info["final"] = {"width": w, "height": h}
    meta["files"] = {role: {"name": FILE_NAMES[role], **{k: v for k, v in i.items() if k != "bytes"}} for role, i in info.items()}
    meta["timings"]["encode_s"] = round(time.perf_counter() - start, 3)
    return meta, files
