"""The publish side never imports torch: `atlas site` and `atlas embed` run where torch is not installed, in
seconds; nor does `atlas measure-site` (generator/bench/site_metrics). (test_site.py also builds a whole site in a
fresh process and checks the same.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import generator

PACKAGE = Path(generator.__file__).parent


def test_no_publish_module_imports_torch():
    modules = sorted(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
                     for folder in ("publish", "bench/site_metrics") for p in (PACKAGE / folder).rglob("*.py"))
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r} + ['generator.cli']:\n"
            "    importlib.import_module(m)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert len(modules) > 10 and json.loads(run.stdout) == []
