"""Configs are data: a name in a config is looked up among registered plugins, never imported.

A module that leaves a marker file when imported sits on sys.path; a config names it (as an
import path, a dotted name, or a Python expression) everywhere a config takes a name. Every one
is refused with an error naming the key, and the module is never imported.
"""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from fer_cli.main import cli

SENTINEL = "fer_sentinel_module"


@pytest.fixture
def sentinel(tmp_path, monkeypatch):
    """A module on sys.path that writes ``imported.txt`` when imported."""
    marker = tmp_path / "imported.txt"
    (tmp_path / f"{SENTINEL}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "def build(**kwargs):\n    raise SystemExit('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, SENTINEL, raising=False)
    return marker


NAMES = [f"{SENTINEL}:build", f"{SENTINEL}.build", f"__import__('{SENTINEL}')", SENTINEL]
PLACES = [
    ("[model]", "backbone = {name}", "[model] backbone"),
    ("[train]", "strategy = {name}", "[train] strategy"),
    ("[train]", "loss = {name}", "[train] loss"),
    ("[train]", "optimizer = {name}", "optimizer"),
    ("[train]", "scheduler = {name}", "scheduler"),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("section", "line", "where"), PLACES)
def test_a_name_in_a_config_is_never_imported(tmp_path, fer2013_slice, sentinel, name, section, line, where):
    body = {"[model]": ['backbone = "small_cnn"'], "[train]": ["max_steps = 1", "batch_size = 8"]}
    key = line.split(" = ")[0]
    body[section] = [x for x in body[section] if not x.startswith(key + " ")] + [line.format(name=repr(name))]
    text = f'name = "t"\n[data]\npath = {str(fer2013_slice)!r}\n' + "".join(
        f"{s}\n" + "\n".join(lines) + "\n" for s, lines in body.items())
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(text.replace("'", '"') if "__import__" not in name else text)
    result = CliRunner().invoke(cli, ["run", str(cfg), "--out", str(tmp_path / "runs"), "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "Error: " in result.output and where in result.output and "Traceback" not in result.output
    assert not sentinel.exists() and SENTINEL not in sys.modules


def test_options_are_passed_as_values_not_evaluated(tmp_path, fer2013_slice, sentinel):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'name = "t"\n[data]\npath = "{fer2013_slice}"\n[model]\nbackbone = "small_cnn"\n'
                   f'options = {{ widths = "__import__(\'{SENTINEL}\')" }}\n[train]\nmax_steps = 1\n')
    result = CliRunner().invoke(cli, ["run", str(cfg), "--out", str(tmp_path / "runs"), "--no-progress"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "widths" in result.output
    assert not sentinel.exists() and SENTINEL not in sys.modules
