"""``fercli data report``."""

from __future__ import annotations

import json

from click.testing import CliRunner

from fer_cli.main import cli


def test_report_on_a_real_slice(fer2013_slice):
    result = CliRunner().invoke(cli, ["data", "report", str(fer2013_slice)])
    assert result.exit_code == 0, result.output
    assert "Training (train)" in result.output and "PublicTest (select)" in result.output
    assert "Exact duplicates" in result.output


def test_report_json(fer2013_slice):
    result = CliRunner().invoke(cli, ["data", "report", str(fer2013_slice), "--json"])
    rep = json.loads(result.output)
    assert [s["total"] for s in rep["splits"]] == [700, 150, 150]
    assert rep["classes"][0] == "angry"


def test_report_on_a_bad_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("emotion,pixels\n0,1 2 3\n")
    result = CliRunner().invoke(cli, ["data", "report", str(bad)])
    assert result.exit_code == 1
    assert f"Error: {bad}: missing column(s) Usage" in result.output
