"""Exit codes and what an unexpected error looks like (generator/errors.py): one line and a log file holding the
traceback; ATLAS_DEBUG=1 prints the traceback too. (Bad inputs, exit 2: tests/test_bad_inputs.py.)"""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

import generator.publish.site.build as site_build
from generator.cli import main


def raising(exc):
    def command(*args, **kwargs):
        raise exc
    return command


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_one_line_exit_3_and_a_log_with_the_traceback(tmp_path, monkeypatch, capsys, debug):
    monkeypatch.setattr(site_build, "build_site", raising(ValueError("boom\nsecond line")))
    if debug:
        monkeypatch.setenv("ATLAS_DEBUG", "1")
    else:
        monkeypatch.delenv("ATLAS_DEBUG", raising=False)
    assert main(["site", "--store", str(tmp_path / "store"), "--out", str(tmp_path / "site")]) == 3
    err = capsys.readouterr().err
    last = err.splitlines()[-1]
    m = re.fullmatch(r"atlas: error: unexpected ValueError: boom; traceback in (\S+\.log) \(set ATLAS_DEBUG=1 to "
                     r"print it\)", last)
    assert m, last
    log = Path(m[1])
    assert "Traceback" in log.read_text() and "ValueError: boom" in log.read_text()
    log.unlink()
    assert ("Traceback" in err) == debug and (err.count("\n") == 1) != debug


@pytest.mark.parametrize("exc, code, line", [
    (KeyboardInterrupt(), 130, "atlas: interrupted"),
    (OSError(errno.ENOSPC, "No space left on device", "site/index.html"), 3,
     "atlas: error: no space left on device writing site/index.html; finished work is kept"),
])
def test_interrupted_and_disk_full(tmp_path, monkeypatch, capsys, exc, code, line):
    monkeypatch.setattr(site_build, "build_site", raising(exc))
    assert main(["site", "--store", str(tmp_path / "store"), "--out", str(tmp_path / "site")]) == code
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1
