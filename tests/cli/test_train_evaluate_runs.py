"""``fercli train``, ``fercli evaluate`` and ``fercli runs`` on a real slice of FER2013."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from fer_cli.main import cli
from fer_core.classes import CLASSES
from fer_core.training import PROTOCOL, find_runs, sha256_file

CONFIG = """
name = "cli"
device = "cpu"
[data]
path = "{data}"
[model]
options = {{ widths = [8, 16] }}
[train]
epochs = 2
batch_size = 16
checkpoint_every = 0
"""


def _invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory, fer2013_slice):
    """Run ``a`` (3 steps), then run ``b`` warm started from ``a``: each through ``fercli train``."""
    from fer_core import plugins

    root = tmp_path_factory.mktemp("runs")
    cfg = root / "exp.toml"
    cfg.write_text(CONFIG.format(data=fer2013_slice))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FER_LOAD_PLUGINS", "fer_models")
        mp.setenv("FER_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "fer-cache"))
        plugins.reset()
        a = _invoke("train", cfg, "--max-steps", 3, "--out", root / "a")
        assert a.exit_code == 0, a.output
        (run_a,) = find_runs(root / "a")
        b = _invoke("train", cfg, "--max-steps", 3, "--init", run_a.path, "--out", root / "b")
        assert b.exit_code == 0, b.output
        (run_b,) = find_runs(root / "b")
        plugins.reset()
    return {"root": root, "config": cfg, "a": run_a, "b": run_b, "out_a": a.output, "out_b": b.output}


def test_train_writes_a_completed_run(trained):
    out, run = trained["out_a"], trained["a"]
    assert f"run folder: {run.path}" in out
    assert "| PrivateTest (report) | 150 |" in out and "| Public+Private | 300 |" in out
    assert "3 steps, 1 epoch(s)" in out  # --max-steps 3 overrides the config's 2 epochs
    info = run.info()
    assert info["status"] == "completed" and info["steps"] == 3 and info["stage"] == "train"
    assert info["parent"] is None
    assert (run.path / "model.safetensors").is_file() and (run.path / "checkpoints" / "best.pt").is_file()


def test_init_warm_starts_and_records_the_parent(trained):
    a, b = trained["a"], trained["b"]
    parent = b.info()["parent"]
    assert parent == {"checkpoint": str(a.path), "sha256": sha256_file(a.path / "checkpoints" / "best.pt")}
    assert b.info()["status"] == "completed"


def test_resume_of_a_completed_run_finishes_without_training(trained, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(trained["a"].path, run)  # resuming rewrites the outputs: leave the shared run alone
    before = sorted(p.name for p in (run / "checkpoints").iterdir())
    result = _invoke("train", "--resume", run)
    assert result.exit_code == 0, result.output
    assert "resumed from" in result.output and "step 3" in result.output
    assert "3 steps, 1 epoch(s)" in result.output  # no extra step, no extra epoch
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["steps"] == 3 and info["epochs"] == 1
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == before
    assert info["report_accuracy"] == trained["a"].info()["report_accuracy"]


def test_train_usage_errors(trained):
    result = _invoke("train")
    assert result.exit_code == 2
    assert "give a CONFIG, or --resume RUN_OR_CHECKPOINT" in result.output
    result = _invoke("train", trained["config"], "--resume", trained["a"].path)
    assert result.exit_code == 2
    assert "--resume continues a run with its own config" in result.output
    result = _invoke("train", "--resume", trained["a"].path, "--seed", 3)  # a seed is the config's
    assert result.exit_code == 2 and "--resume continues a run with its own config" in result.output


def test_seed_and_threads_override_the_config(trained, tmp_path):
    seeds = {}
    for seed in (0, 5):
        out = tmp_path / f"seed{seed}"
        result = _invoke("train", trained["config"], "--max-steps", 1, "--seed", seed, "--threads", 1,
                         "--out", out)
        assert result.exit_code == 0, result.output
        (run,) = find_runs(out)
        config = json.loads((run.path / "config.json").read_text())
        assert config["seed"] == seed and config["threads"] == 1
        seeds[seed] = sha256_file(run.path / "model.safetensors")
    assert seeds[0] != seeds[5]  # the seed reached the initialisation


def test_resume_takes_the_threads_of_this_machine(trained, tmp_path, monkeypatch):
    import torch

    set_to = []
    monkeypatch.setattr(torch, "set_num_threads", set_to.append)  # the Trainer's call, recorded
    run = tmp_path / "copy"
    shutil.copytree(trained["a"].path, run)
    result = _invoke("train", "--resume", run, "--threads", 3)
    assert result.exit_code == 0, result.output
    assert "resumed from" in result.output and set_to[:1] == [3]


def test_evaluate_a_run_folder_prints_the_per_class_tables(trained):
    run = trained["a"]
    result = _invoke("evaluate", run.path)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Protocol: {PROTOCOL}. TTA: none." in out
    info = run.info()
    assert f"**PublicTest (select)** (n = 150, accuracy {info['select_accuracy']:.4f})" in out
    assert f"**PrivateTest (report)** (n = 150, accuracy {info['report_accuracy']:.4f})" in out
    assert f"**Public+Private** (n = 300, accuracy {info['combined_accuracy']:.4f})" in out
    assert out.count("| emotion | precision | recall | F1 | support |") == 3
    for name in CLASSES:
        assert out.count(f"| {name} | ") == 3
    assert out.count("| macro avg |") == 3 and out.count("| weighted avg |") == 3


def test_evaluate_safetensors_with_flip_tta_writes_json(trained, fer2013_slice, tmp_path):
    out_json = tmp_path / "metrics.json"
    weights = trained["a"].path / "model.safetensors"
    result = _invoke("evaluate", weights, "--data", fer2013_slice, "--tta", "flip", "--json", out_json)
    assert result.exit_code == 0, result.output
    assert "TTA: flip." in result.output
    data = json.loads(out_json.read_text())
    assert data["protocol"] == PROTOCOL and data["tta"] == "flip"
    splits = {"PublicTest (select)": 150, "PrivateTest (report)": 150, "Public+Private": 300}
    assert {name: data[name]["n"] for name in splits} == splits
    report = data["PrivateTest (report)"]
    assert report["tta"] == "flip" and len(report["per_class_f1"]) == 7 and "ece" in report
    assert sum(map(sum, report["confusion"])) == 150


def test_evaluate_safetensors_needs_data(trained):
    result = _invoke("evaluate", trained["a"].path / "model.safetensors")
    assert result.exit_code == 1 and "pass --data PATH" in result.output


def test_runs_list(trained, tmp_path):
    result = _invoke("runs", "list", "--root", trained["root"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("| run | stage | status | best epoch |")
    for key in ("a", "b"):
        info = trained[key].info()
        row = (f"| {key}/{trained[key].path.name} | train | completed | 0 | {info['select_accuracy']:.4f} "
               f"| {info['report_accuracy']:.4f} | {info['combined_accuracy']:.4f} |")
        assert row in lines
    empty = _invoke("runs", "list", "--root", tmp_path)
    assert empty.exit_code == 0 and "no runs under" in empty.output


def test_runs_compare(trained):
    a, b = trained["a"], trained["b"]
    result = _invoke("runs", "compare", a.path, b.path, "--root", trained["root"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    reports = [json.loads((r.path / "report.json").read_text()) for r in (a, b)]
    assert f"| metric | {a.path.name} | {b.path.name} |" in lines
    acc = " | ".join(f"{r['report']['accuracy']:.4f}" for r in reports)
    assert f"| accuracy | {acc} |" in lines
    f1 = " | ".join(f"{r['report']['per_class_f1'][1]:.4f}" for r in reports)
    assert f"| F1 disgust | {f1} |" in lines
    assert "| steps | 3 | 3 |" in lines
    assert f"| parent checkpoint | - | {b.info()['parent']['sha256'][:12]} |" in lines
    # a run by name under --root
    by_name = _invoke("runs", "compare", a.path.name, "--root", a.path.parent)
    assert by_name.exit_code == 0, by_name.output
    assert f"| accuracy | {reports[0]['report']['accuracy']:.4f} |" in by_name.output
    missing = _invoke("runs", "compare", "nope", "--root", trained["root"])
    assert missing.exit_code == 1 and "no run 'nope'" in missing.output


def test_runs_compare_names_contempt_when_a_run_has_it(trained, tmp_path):
    import shutil

    eight = tmp_path / "eight-run"
    shutil.copytree(trained["a"].path, eight)
    report = json.loads((eight / "report.json").read_text())
    report["report"]["per_class"]["contempt"] = {"precision": 0.5, "recall": 0.25, "f1": 0.3333, "support": 4}
    (eight / "report.json").write_text(json.dumps(report))
    result = _invoke("runs", "compare", trained["b"].path, eight, "--root", trained["root"])
    assert result.exit_code == 0, result.output
    assert "| F1 contempt | - | 0.3333 |" in result.output.splitlines()


def test_evaluate_uses_the_labels_the_run_was_trained_on(trained, fer2013_csv, ferplus_csv, tmp_path):
    import shutil

    run = tmp_path / "ferplus-run"
    shutil.copytree(trained["a"].path, run)
    cfg = json.loads((run / "config.json").read_text())
    cfg["data"].update(path=str(fer2013_csv), ferplus=str(ferplus_csv), labels="ferplus-majority")
    (run / "config.json").write_text(json.dumps(cfg))
    out_json = tmp_path / "m.json"
    result = _invoke("evaluate", run, "--json", out_json)
    assert result.exit_code == 0, result.output
    assert "Labels: ferplus-majority." in result.output
    from fer_core.data import load_dataset

    expected = load_dataset(fer2013_csv, ferplus=ferplus_csv, labels="ferplus-majority").split("select")
    data = json.loads(out_json.read_text())
    assert data["PublicTest (select)"]["n"] == len(expected) < 3589  # FER+ drops rows without a majority


def _votes_of_slice(ferplus_csv, out):
    """The FER+ vote rows of ``fer2013_slice`` (its first 700/150/150 rows of each split)."""
    import gzip

    limits = {"Training": 700, "PublicTest": 150, "PrivateTest": 150}
    with gzip.open(ferplus_csv, "rt", newline="") as fh, open(out, "w", newline="") as dst:
        dst.write(fh.readline())
        for line in fh:
            usage = line.split(",", 1)[0]
            if limits[usage]:
                limits[usage] -= 1
                dst.write(line)
    return out


def test_evaluate_under_the_ferplus_protocol(trained, fer2013_slice, ferplus_csv, tmp_path):
    from fer_core.data import load_dataset, read_ferplus_votes
    from fer_core.training import FERPLUS_PROTOCOL, ferplus_test_set

    votes = _votes_of_slice(ferplus_csv, tmp_path / "slice-votes.csv")
    out_json = tmp_path / "ferplus.json"
    result = _invoke("evaluate", trained["a"].path, "--labels", "ferplus-majority", "--ferplus", votes,
                     "--json", out_json)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(FERPLUS_PROTOCOL)
    test = ferplus_test_set(load_dataset(fer2013_slice), read_ferplus_votes(votes))
    assert f"**FER+ test = PrivateTest (report), FER+ protocol** (n = {len(test)}," in result.output
    assert test.describe() in result.output and "rater agreement" in result.output
    data = json.loads(out_json.read_text())
    report = data["FER+ test = PrivateTest (report)"]
    assert data["protocol"] == FERPLUS_PROTOCOL and report["n"] == len(test) < 150
    assert report["excluded"] == test.excluded and report["vote_cross_entropy"] > 0


def test_an_eight_class_model_is_scored_on_eight_classes_and_the_mapping(fer2013_slice, ferplus_csv,
                                                                          tmp_path):
    import torch

    from fer_core import FERPLUS_CLASSES
    from fer_core.plugins import get_plugins
    from fer_core.training import FERPLUS8_PROTOCOL, export_weights

    torch.manual_seed(0)
    model = get_plugins().get("backbone", "small_cnn").build(num_classes=8, in_chans=1, widths=[8, 16])
    export_weights(model.state_dict(), tmp_path, {
        "backbone": "small_cnn", "options": {"widths": [8, 16]}, "num_classes": 8, "in_chans": 1,
        "classes": list(FERPLUS_CLASSES), "preprocessing": {"crop_size": 40, "tta": "none"}})
    votes = _votes_of_slice(ferplus_csv, tmp_path / "slice-votes.csv")
    out_json = tmp_path / "ferplus8.json"
    result = _invoke("evaluate", tmp_path / "model.safetensors", "--data", fer2013_slice,
                     "--labels", "ferplus-majority", "--ferplus", votes, "--json", out_json)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(FERPLUS8_PROTOCOL)
    assert "FER+ test = PrivateTest (report), FER+ protocol, 8 classes**" in result.output
    assert "FER+ test = PrivateTest (report), FER+ protocol, 7-class mapping**" in result.output
    report = json.loads(out_json.read_text())["FER+ test = PrivateTest (report)"]
    assert list(report["per_class"]) == list(FERPLUS_CLASSES) and "contempt" not in report["excluded"]
    # the rows whose majority is contempt (the confusion matrix's last row) leave the mapping
    assert report["seven_class"]["n"] == report["n"] - sum(report["confusion"][-1])
    # FER2013's labels: the contempt output is dropped, the 7 renormalised
    result = _invoke("evaluate", tmp_path / "model.safetensors", "--data", fer2013_slice)
    assert result.exit_code == 0, result.output
    assert "| contempt |" not in result.output and "PrivateTest (report)" in result.output


def test_evaluate_ferplus_without_a_vote_file_is_one_error(trained, fer2013_slice):
    result = _invoke("evaluate", trained["a"].path / "model.safetensors", "--data", fer2013_slice,
                     "--labels", "ferplus-majority")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: --labels ferplus-majority needs the FER+ vote file; pass --ferplus PATH (none beside "
        f"{fer2013_slice})"]
