import json
import subprocess
import sys



def atlas(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_help_everywhere():
    for cmd in [[], ["render"], ["layers"], ["build"], ["site"], ["bench"], ["embed"], ["export"], ["post-videos"], ["measure-site"]]:
        out = atlas(*cmd, "--help")
        assert out.returncode == 0 and "usage: atlas" in out.stdout


def test_render_writes_image_frames_and_metrics(tmp_path):
    out = atlas("render", "hen", "_blocks.3:2", "--model", "efficientnet_lite0", "--steps", "4", "--size", "64",
                "--set", "frames=3", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "class-008"
    assert (folder / "final.png").stat().st_size > 0
    assert sorted(p.name for p in (folder / "frames").iterdir()) == ["step-0000.png", "step-0001.png", "step-0004.png"]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["target"]["label"] == "hen" and len(metrics["values"]) == 4 and len(metrics["top5"]) == 5
    assert metrics["recipe"]["steps"] == 4 and metrics["model"]["name"] == "efficientnet_lite0"
    assert (tmp_path / "channel-_blocks.3-2" / "final.png").exists()
