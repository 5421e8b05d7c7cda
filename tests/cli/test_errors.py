"""Issue 18's non-video cases: every one ends in one ``Error: ...`` line naming the path, a non-zero
exit, no traceback, and nothing new on disk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from _broken import (
    assert_one_line_error,
    flip_byte,
    invoke,
    read_only_mount,
    save_tiny_model,
    tree,
    write_config,
    write_face,
    write_tiny_csv,
)
from PIL import Image

from fer_cli.main import cli

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> dict[str, Path]:
    """Inputs that work: two tiny models, a tiny CSV, a config, a face image; and broken files."""
    import torch

    root = tmp_path_factory.mktemp("kit")
    kit = {"model": save_tiny_model(root / "model"), "model2": save_tiny_model(root / "model2", seed=1),
           "csv": write_tiny_csv(root / "tiny.csv"), "face": write_face(root / "faces" / "a.png")}
    kit["config"] = write_config(root / "tiny.toml", kit["csv"])
    good = root / "good.pt"
    torch.save({"model": {"w": torch.zeros(4096)}}, good)
    broken = root / "broken"
    broken.mkdir()
    kit["random.pt"] = broken / "random.pt"
    kit["random.pt"].write_bytes(bytes(range(256)) * 16)
    kit["empty.pt"] = broken / "empty.pt"
    kit["empty.pt"].write_bytes(b"")
    kit["truncated.pt"] = broken / "truncated.pt"
    kit["truncated.pt"].write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    weights = (kit["model"] / "model.safetensors").read_bytes()
    for name, data in (("random", bytes(range(256)) * 16), ("empty", b""), ("truncated", weights[:300])):
        folder = broken / f"{name}-st"
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(data)
        shutil.copy(kit["model"] / "model.json", folder / "model.json")
        kit[f"{name}.safetensors"] = folder / "model.safetensors"
    flipped = shutil.copytree(kit["model"], root / "flipped")
    flip_byte(flipped / "model.safetensors")
    kit["flipped"] = flipped
    return kit


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty working directory (the commands' relative defaults land here)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _fails_cleanly(args: list, *expected, watch: Path, code: int = 1) -> str:
    before = tree(watch)
    last = assert_one_line_error(invoke(args), *expected, code=code)
    assert tree(watch) == before, f"left behind: {tree(watch) - before}"
    return last


# -- outputs that cannot be written --------------------------------------------------------------

#: every built-in command that writes, and how to call it with a good input and output ``out``
#: (a folder; file outputs go inside it). The test below checks this list against the click group.
WRITERS = {
    ("analyze", "out"): lambda k, out: ["analyze", k["face"], "--model", k["model"], "--detector",
                                        "full_frame", "--out", out],
    ("ensemble", "out"): lambda k, out: ["ensemble", k["model"], k["model2"], "--data", k["csv"],
                                         "--out", out],
    ("evaluate", "json_out"): lambda k, out: ["evaluate", k["model"], "--data", k["csv"], "--json",
                                              out / "m.json"],
    ("export", "out"): lambda k, out: ["export", k["model"], out / "m.onnx"],
    ("predict", "out"): lambda k, out: ["predict", k["face"], "--model", k["model"], "--out", out / "p.csv"],
    ("run", "out"): lambda k, out: ["run", k["config"], "--out", out],
    ("teacher", "out"): lambda k, out: ["teacher", k["model"], "--data", k["csv"], "--out", out / "t.npz"],
    ("train", "out"): lambda k, out: ["train", k["config"], "--out", out],
}


def _output_params(group: click.Group, prefix: tuple[str, ...] = ()) -> set[tuple[str, str]]:
    """(command path, parameter name) of every path parameter that names an output."""
    found = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= _output_params(command, (*prefix, name))
            continue
        for param in command.params:
            if isinstance(param.type, click.Path) and not param.type.exists and (
                    "out" in (param.name or "") or "json" in (param.name or "")):
                found.add((" ".join((*prefix, name)), param.name))
    return found


def test_the_writers_list_is_every_command_with_an_output():
    assert _output_params(cli) == set(WRITERS), "a command writes files: add it to WRITERS"


def _bad_location(tmp_path: Path, kind: str) -> Path:
    if kind == "proc":
        return Path("/proc/fer-no-such/sub")
    if kind == "under-a-file":
        afile = tmp_path / "afile"
        afile.write_text("a file where a folder should be\n")
        return afile / "sub"
    ro = read_only_mount()
    if ro is None:
        pytest.skip("no read-only mount here (set FER_READONLY_DIR to a folder on one)")
    return ro / "fer-out"


@pytest.mark.parametrize("kind", ["proc", "under-a-file", "read-only-mount"])
@pytest.mark.parametrize("writer", sorted(WRITERS), ids=lambda w: w[0])
def test_every_command_refuses_an_unwritable_out(kit, workdir, tmp_path, writer, kind):
    out = _bad_location(tmp_path, kind)
    args = WRITERS[writer](kit, out)
    target = next(a for a in args if isinstance(a, Path) and str(a).startswith(str(out)))
    last = _fails_cleanly(args, "cannot write to", str(target), watch=tmp_path)
    assert kind != "under-a-file" or "is a file, not a folder" in last, last
    assert not list(workdir.iterdir())


def test_a_file_where_an_output_folder_should_be_and_a_folder_where_a_file_should(kit, workdir, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    _fails_cleanly(WRITERS["analyze", "out"](kit, afile), "cannot write to", str(afile),
                   "a file, not a folder", watch=tmp_path)
    folder = tmp_path / "m.json"
    folder.mkdir()
    _fails_cleanly(["evaluate", kit["model"], "--data", kit["csv"], "--json", folder], "cannot write to",
                   str(folder), "a folder, not a file", watch=tmp_path)


# -- configs that are not files ------------------------------------------------------------------

@pytest.mark.parametrize("command", ["run", "train"])
@pytest.mark.parametrize("case", ["folder", "binary", "missing"])
def test_a_config_that_is_not_a_readable_file(kit, workdir, tmp_path, command, case):
    path = {"folder": tmp_path / "configs", "binary": tmp_path / "binary.toml",
            "missing": tmp_path / "missing.toml"}[case]
    if case == "folder":
        path.mkdir()
    elif case == "binary":
        path.write_bytes(bytes(range(256)))
    expected = {"folder": "a folder, not a config file", "binary": "not a text file",
                "missing": "no such config file"}[case]
    _fails_cleanly([command, path], str(path), expected, watch=tmp_path)


# -- damaged checkpoints and weight files ---------------------------------------------------------

BROKEN = ["random.pt", "empty.pt", "truncated.pt", "random.safetensors", "empty.safetensors",
          "truncated.safetensors"]
USES = {
    "run --init": lambda k, f: ["run", k["config"], "--init", f, "--out", "runs"],
    "train --init": lambda k, f: ["train", k["config"], "--init", f, "--out", "runs"],
    "evaluate": lambda k, f: ["evaluate", f, "--data", k["csv"]],
    "predict --model": lambda k, f: ["predict", k["face"], "--model", f],
    "export": lambda k, f: ["export", f, "m.onnx"],
}


@pytest.mark.parametrize("use", sorted(USES))
@pytest.mark.parametrize("broken", BROKEN)
def test_a_damaged_model_file_is_one_line_naming_it(kit, workdir, tmp_path, use, broken):
    last = _fails_cleanly(USES[use](kit, kit[broken]), str(kit[broken]), watch=tmp_path)
    assert "not a loadable checkpoint" in last or "not a readable safetensors file" in last, last
    assert not (workdir / "runs").exists()  # no empty run folder


@pytest.mark.parametrize("broken", ["random.pt", "empty.pt", "truncated.pt"])
def test_resume_from_a_damaged_checkpoint(kit, workdir, tmp_path, broken):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"status": "running"}) + "\n")
    checkpoint = shutil.copy(kit[broken], run / "checkpoints" / "step-00000001.pt")
    _fails_cleanly(["train", "--resume", checkpoint], str(checkpoint), "not a loadable checkpoint",
                   watch=tmp_path)
    _fails_cleanly(["train", "--resume", run], str(run), "no intact checkpoint", watch=tmp_path)


# -- a flipped byte, NaN weights, non-finite outputs ----------------------------------------------

FLIPPED_USES = {
    "predict": lambda k, m: ["predict", k["face"], "--model", m],
    "analyze": lambda k, m: ["analyze", k["face"], "--model", m, "--detector", "full_frame", "--out", "tl"],
    "evaluate": lambda k, m: ["evaluate", m, "--data", k["csv"]],
    "export": lambda k, m: ["export", m, "m.onnx"],
    "run --init": lambda k, m: ["run", k["config"], "--init", m / "model.safetensors", "--out", "runs"],
}


@pytest.mark.parametrize("use", sorted(FLIPPED_USES))
def test_a_flipped_byte_in_the_weights_is_caught(kit, workdir, tmp_path, use):
    weights = kit["flipped"] / "model.safetensors"
    recorded = json.loads((kit["flipped"] / "model.json").read_text())["weights_sha256"]
    last = _fails_cleanly(FLIPPED_USES[use](kit, kit["flipped"]), str(weights),
                          "does not match its model.json", recorded, watch=tmp_path)
    assert last.count("sha256") == 1 and "!= recorded" in last


def test_nan_weights_with_a_matching_hash_are_refused(kit, workdir, tmp_path):
    def poison(state):
        next(v for k, v in state.items() if k.endswith("weight")).view(-1)[0] = float("nan")

    model = save_tiny_model(tmp_path / "nan", edit=poison)
    for use in ("predict", "analyze", "evaluate", "export"):
        _fails_cleanly(FLIPPED_USES[use](kit, model), str(model / "model.safetensors"), "weights hold NaN",
                       watch=tmp_path)


def test_infinite_outputs_are_an_error_naming_the_file_not_a_label(kit, workdir, tmp_path):
    def overflow(state):
        bias = [k for k in state if k.endswith("bias")][-1]  # the classifier's: logits +inf for class 0
        state[bias][0] = float("inf")

    model = save_tiny_model(tmp_path / "inf", edit=overflow)
    second = write_face(tmp_path / "faces" / "b.png")
    last = _fails_cleanly(["predict", kit["face"], second, "--model", model], "NaN or infinite",
                          str(kit["face"]), "and 1 more", watch=tmp_path)
    assert "angry" not in last


# -- names and extensions ------------------------------------------------------------------------

def test_a_shipped_name_wins_over_a_folder_of_that_name(kit, workdir, tmp_path):
    import fer_models

    if "default" not in fer_models.shipped_models():
        pytest.skip("no shipped default model in this installation")
    (workdir / "default").mkdir()  # e.g. left by an earlier --out default
    result = invoke(["predict", kit["face"], "--model", "default"])
    assert result.exit_code == 0, result.output
    assert str(kit["face"]) in result.output
    _fails_cleanly(["predict", kit["face"], "--model", "./default"], "default", "no model there",
                   watch=tmp_path)
    shutil.copytree(kit["model"], workdir / "mine")
    assert invoke(["predict", kit["face"], "--model", "./mine"]).exit_code == 0


def test_predict_takes_the_still_images_analyze_takes(kit, workdir, tmp_path):
    from fer_core import IMAGE_EXTENSIONS
    from fer_core.data import IMAGE_SUFFIXES
    from fer_temporal import _sources

    assert set(_sources.IMAGE_SUFFIXES) == set(IMAGE_EXTENSIONS) == set(IMAGE_SUFFIXES)
    folder = tmp_path / "gifs"
    folder.mkdir()
    gif = folder / "a.gif"
    shutil.copy(kit["face"], folder / "tmp.png")
    Image.open(folder / "tmp.png").save(gif)
    (folder / "tmp.png").unlink()
    for ref in (folder, gif):  # a GIF is one face, its first frame
        result = invoke(["predict", ref, "--model", kit["model"]])
        assert result.exit_code == 0 and str(gif) in result.output, result.output
    (folder / "clip.mp4").write_bytes(b"")
    _fails_cleanly(["predict", folder / "clip.mp4", "--model", kit["model"]], "clip.mp4", "not an image file",
                   "fercli analyze", watch=tmp_path)


def test_a_disk_that_fails_mid_write_is_one_line_and_leaves_no_temp_file(kit, workdir, tmp_path, monkeypatch):
    import errno
    import os

    from fer_core import files

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(files.os, "replace", full)
    out = workdir / "p.csv"
    last = _fails_cleanly(["predict", kit["face"], "--model", kit["model"], "--out", out],
                          "No space left on device", str(out), watch=tmp_path)
    assert last == f"Error: No space left on device ({out})"
    assert os.listdir(workdir) == []
