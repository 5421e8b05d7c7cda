"""Ship a trained run as a named model of fer-models, and write its model card from measurements.

    python examples/experiments/ship_model.py RUN --name default \\
        [--seed-runs RUN2 RUN3] [--rerun RUN_AGAIN] [--data fer2013.csv.gz] \\
        [--into packages/fer-models/src/fer_models/weights] \\
        [--card packages/fer-models/MODEL_CARD.md (MODEL_CARD-NAME.md for other names)]

Everything in the card is measured here, on the full FER2013 test splits, with the model's own
TTA: accuracy, macro-F1 and per-class precision/recall/F1 on PrivateTest (reported), PublicTest
(where the checkpoint was chosen) and Public+Private (7,178, for comparison with the reports);
the PrivateTest confusion matrix (PNG); calibration: a temperature fitted on PublicTest (NLL),
ECE and NLL before and after on both splits; parameters, GMACs with TTA counted, and CPU
throughput (eager PyTorch and ONNX Runtime, batch 1 and 64, 2 threads). ``--seed-runs`` are
runs of the same recipe with other seeds: the card gives the mean and standard deviation of
their PrivateTest accuracy with this one's (when the seed runs were all warm-started from the same
weights, the card says so and names them by sha256). ``--rerun`` is the same recipe
trained again with the same seed: the card gives its PrivateTest accuracy, the difference, and
whether its weights are bitwise the same.

Writes ``INTO/NAME/model.safetensors`` (the run's weights, unchanged) and ``INTO/NAME/model.json``
(the run's weights config plus ``name``, ``temperature`` and the card's numbers under
``card``), the card, and ``<card folder>/docs/NAME-confusion.png``. All writes are atomic.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

import fer_core
from fer_core.classes import CLASSES
from fer_core.data import FerDataset, load_dataset
from fer_core.training import (
    WEIGHTS_CONFIG,
    WEIGHTS_NAME,
    RunDir,
    atomic_write,
    atomic_write_text,
    classification_metrics,
    plot_confusion,
    sha256_file,
)
from fer_models.inference import (
    CALIBRATION_FACES,
    ONNX_NAME,
    apply_temperature,
    fit_temperature,
    load,
    negative_log_likelihood,
    shipped_models,
)

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import command as invocation  # noqa: E402
from _common import cpu_model, images_per_second  # noqa: E402
from robustness import keep_generated_section  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"
INTO = REPO / "packages" / "fer-models" / "src" / "fer_models" / "weights"
CARDS = REPO / "packages" / "fer-models"
SPLITS = ("PrivateTest", "PublicTest", "Public+Private")


def default_card(name: str) -> Path:
    """``MODEL_CARD.md`` for the default model, ``MODEL_CARD-<name>.md`` for any other."""
    return CARDS / ("MODEL_CARD.md" if name == "default" else f"MODEL_CARD-{name}.md")


def speed(folder: Path, faces: np.ndarray, seconds: float) -> dict[str, float]:
    """Images/second of ``predict_proba`` (TTA included), eager and ONNX Runtime, batch 1 and 64."""
    out = {}
    for backend in ("torch", "onnx"):
        clf = load(folder, backend=backend)
        for batch in (1, 64):
            call = lambda clf=clf, b=batch: clf.predict_proba(faces[:b])  # noqa: E731
            out[f"{backend}_{batch}"] = images_per_second(call, batch, seconds, rounds=3)
    return out


def split_probabilities(predict: Any, ds: FerDataset) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``predict``'s probabilities and the labels on PublicTest, PrivateTest and Public+Private."""
    public, private = ds.split("select"), ds.split("report")
    probs = {"PublicTest": predict(public.images[:, 0].numpy()),
             "PrivateTest": predict(private.images[:, 0].numpy())}
    labels = {"PublicTest": public.labels.numpy(), "PrivateTest": private.labels.numpy()}
    for d in (probs, labels):
        d["Public+Private"] = np.concatenate([d["PublicTest"], d["PrivateTest"]])
    return probs, labels


def common_start(runs: list[Path]) -> str | None:
    """The sha256 of the weights all ``runs`` were warm-started from (``--init``), if one is shared."""
    def start(run: Path) -> str | None:
        try:
            return (RunDir(run).info().get("parent") or {}).get("sha256")
        except FileNotFoundError:  # a model folder, not a run folder
            return None

    starts = {start(run) for run in runs}
    return starts.pop() if len(starts) == 1 else None


def measure(run: Path, ds: FerDataset, seed_runs: list[Path], rerun: Path | None = None) -> dict[str, Any]:
    clf = load(run, backend="torch")
    private = ds.split("report")
    # raw: the model's TTA-averaged probabilities, without any temperature it was shipped with
    raw, labels = split_probabilities(
        lambda faces: apply_temperature(clf.predict_proba(faces), 1.0 / clf.temperature), ds)
    temperature = fit_temperature(raw["PublicTest"], labels["PublicTest"])
    metrics = {}
    for name in SPLITS:
        m = classification_metrics(labels[name], raw[name])
        scaled = apply_temperature(raw[name], temperature)
        m["calibration"] = {
            "ece_before": m.pop("ece"), "ece_after": classification_metrics(labels[name], scaled)["ece"],
            "nll_before": negative_log_likelihood(raw[name], labels[name]),
            "nll_after": negative_log_likelihood(scaled, labels[name])}
        metrics[name] = m

    def private_accuracy(other: Path) -> float:
        p = load(other).predict_proba(private.images[:, 0].numpy())
        return float((p.argmax(1) == labels["PrivateTest"]).mean())

    seeds = [metrics["PrivateTest"]["accuracy"], *map(private_accuracy, seed_runs)]
    again = None if rerun is None else {
        "run": str(rerun), "PrivateTest_accuracy": private_accuracy(rerun),
        "identical_weights": sha256_file(rerun / WEIGHTS_NAME) == sha256_file(run / WEIGHTS_NAME)}
    return {
        "metrics": metrics, "temperature": temperature,
        "params": int(sum(p.numel() for p in clf.model.parameters())), "gmacs": clf.gmacs(), "tta": clf.tta,
        "train_counts": dict(zip(CLASSES, ds.split("train").class_counts().tolist(), strict=True)),
        "seeds": {"runs": [str(run), *map(str, seed_runs)], "private_accuracy": seeds,
                  "start": common_start(seed_runs) if seed_runs else None}, "rerun": again,
        "private_prediction": raw["PrivateTest"].argmax(1),
    }


def ship_int8(folder: Path, ds: FerDataset, float_prediction: np.ndarray) -> dict[str, Any]:
    """Write ``folder/model.onnx``: the shipped model quantized to int8, calibrated on Training
    faces; its accuracy on the test splits (the same temperature, the same TTA) and how often
    its top class on PrivateTest is ``float_prediction``'s."""
    train = ds.split("train")
    note = {"calibration_source": f"{CALIBRATION_FACES:,} FER2013 Training faces, drawn with seed 0"}
    load(folder, backend="torch").export_onnx(folder / ONNX_NAME, int8_calibration=train.images,
                                              calibration_note=note)
    clf = load(folder, backend="onnx")
    probs, labels = split_probabilities(clf.predict_proba, ds)
    return {"metrics": {name: classification_metrics(labels[name], probs[name]) for name in probs},
            "agreement": float((probs["PrivateTest"].argmax(1) == float_prediction).mean()),
            "quantization": clf.config["onnx"]["quantization"],
            "sha256": sha256_file(folder / ONNX_NAME), "bytes": (folder / ONNX_NAME).stat().st_size}


def accuracy_table(metrics: dict[str, Any]) -> list[str]:
    """The card's accuracy table (Markdown lines): each split's images, accuracy and F1s."""
    lines = ["| split | images | accuracy | macro-F1 | weighted-F1 |", "|---|---|---|---|---|"]
    for split in SPLITS:
        s = metrics[split]
        role = {"PrivateTest": " (reported)", "PublicTest": " (selection)"}.get(split, "")
        lines.append(f"| {split}{role} | {s['n']:,} | **{s['accuracy']:.2%}** | {s['macro_f1']:.3f} "
                     f"| {s['weighted_f1']:.3f} |")
    return lines


def per_class_table(pv: dict[str, Any]) -> list[str]:
    """Precision, recall, F1 and support per class of one split's metrics (Markdown lines)."""
    lines = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for c in CLASSES:
        k = pv["per_class"][c]
        lines.append(f"| {c} | {k['precision']:.3f} | {k['recall']:.3f} | {k['f1']:.3f} | {k['support']} |")
    for label in ("macro", "weighted"):
        a = pv["averages"][label]
        lines.append(f"| {label} avg | {a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f} "
                     f"| {pv['n']} |")
    return lines


def card_data(name: str, m: dict[str, Any], config: dict[str, Any], command: str) -> dict[str, Any]:
    """The card's numbers as stored in model.json (``Classifier.card``)."""
    metrics = m["metrics"]
    return {
        "name": name, "protocol": "trained on FER2013 Training; checkpoint chosen on PublicTest; "
                                  "PrivateTest reported; Public+Private for comparison",
        "experiment": config.get("experiment"), "stage": config.get("stage"),
        "best_epoch": config.get("best_epoch"), "tta": m["tta"], "params": m["params"],
        "gmacs": round(m["gmacs"], 4), "temperature": round(m["temperature"], 4),
        **{f"{split}_{key}": round(metrics[split][key], 4)
           for split in metrics for key in ("accuracy", "macro_f1")},
        "PrivateTest_per_class_f1": {c: round(v, 4) for c, v in
                                     zip(CLASSES, metrics["PrivateTest"]["per_class_f1"], strict=True)},
        "images_per_second": {k: round(v) for k, v in m["speed"].items()},
        "seeds_PrivateTest_accuracy": [round(a, 4) for a in m["seeds"]["private_accuracy"]],
        **({"seeds_start_sha256": m["seeds"]["start"]} if m["seeds"].get("start") else {}),
        **({"rerun": {"PrivateTest_accuracy": round(m["rerun"]["PrivateTest_accuracy"], 4),
                      "identical_weights": m["rerun"]["identical_weights"]}} if m.get("rerun") else {}),
        **({"onnx_int8": {f"{split}_{key}": round(m["int8"]["metrics"][split][key], 4)
                          for split in m["int8"]["metrics"] for key in ("accuracy", "macro_f1")}}
           if m.get("int8") else {}),
        "measured": datetime.date.today().isoformat(), "command": command,
    }


def render(name: str, m: dict[str, Any], config: dict[str, Any], command: str, png: str) -> str:
    metrics = m["metrics"]
    pv = metrics["PrivateTest"]
    seeds = m["seeds"]["private_accuracy"]
    lines = [
        f"# Model card: fer-models `{name}`", "",
        f"`fer_models.load(\"{name}\")`: a {config['backbone']} trained from scratch by this toolkit "
        f"(experiment `{config.get('experiment')}`, best epoch {config.get('best_epoch')}), shipped inside "
        "the fer-models wheel (no download). Input: a face crop, any size, gray/RGB/RGBA (resized to 48x48 "
        f"gray); output: probabilities of {', '.join(CLASSES)}, in that order (`.classes`).", "",
        "Every number below was measured by one command (it also wrote the weights and this file):", "",
        "```bash", command, "```", "",
        "The run it measures comes from the experiment's recipe, trained from scratch (the "
        "CPU time of this run is in examples/experiments/RESULTS.md):", "",
        "```bash", f"fercli run examples/experiments/{config.get('experiment')}.toml --out runs   "
        "# then the command above on the new run folder", "```", "",
        "## Data and protocol", "",
        "FER2013 (35,887 48x48 gray faces): trained on Training (28,709) only, no external data, no "
        "pretrained weights. The checkpoint (and the temperature below) were chosen on PublicTest "
        "(3,589); PrivateTest (3,589) is reported, never used for a choice; Public+Private (7,178) is "
        f"given for comparison with published figures. Test-time augmentation: `{m['tta']}`, counted in "
        "the cost.", "",
        "## Accuracy", "", *accuracy_table(metrics),
    ]
    if m.get("int8"):
        q, how = m["int8"], m["int8"]["quantization"]
        lines += ["", f"The wheel also holds `{ONNX_NAME}`, this model quantized to int8 with ONNX Runtime "
                  f"(static, {how['format']}: weights {how['weights']}, activations {how['activations']}, "
                  f"ranges calibrated on {how['calibration_source']}; {q['bytes'] / 2**20:.1f} MB). "
                  f"`fer_models.load(\"{name}\", backend=\"onnx\")` runs it. Its accuracy, same protocol, "
                  f"same temperature; it gives the float model's answer on {q['agreement']:.2%} of "
                  "PrivateTest:", "",
                  "| split (int8 ONNX) | images | accuracy | macro-F1 |", "|---|---|---|---|"]
        for split in SPLITS:
            s = q["metrics"][split]
            lines.append(f"| {split} | {s['n']:,} | {s['accuracy']:.2%} | {s['macro_f1']:.3f} |")
    if len(seeds) > 1:
        start = m["seeds"].get("start")
        what = (f"Same recipe, {len(seeds)} seeds" if start is None else
                f"Seeds: this model and {len(seeds) - 1} more runs of its last stage "
                f"(`{config.get('stage')}`) with other seeds, those warm-started from the weights with "
                f"sha256 {start[:12]}... (`fercli train examples/experiments/{config.get('experiment')}.toml "
                f"--stage {config.get('stage')} --init WEIGHTS --seed S`); {len(seeds)} runs")
        lines += ["", f"{what} (this model first): PrivateTest accuracy "
                  + ", ".join(f"{a:.2%}" for a in seeds)
                  + f"; mean {statistics.mean(seeds):.2%}, standard deviation {statistics.stdev(seeds):.2%}."]
    else:
        lines += ["", "Seeds: only this run was measured (no `--seed-runs` given)."]
    if m.get("rerun"):
        r = m["rerun"]
        gap = 100 * (r["PrivateTest_accuracy"] - pv["accuracy"])
        lines += ["", f"Rerun: the same recipe trained again with the same seed (`{r['run']}`) reaches "
                  f"{r['PrivateTest_accuracy']:.2%} on PrivateTest ({gap:+.2f} points); its weights are "
                  f"{'' if r['identical_weights'] else 'not '}bitwise the same as this model's."]
    else:
        lines += ["", "Rerun: not measured (no `--rerun` given)."]
    lines += ["", "### Per class, PrivateTest", "", *per_class_table(pv),
              "", f"![PrivateTest confusion matrix]({png})", "",
              "## Calibration", "",
              f"A temperature T = {m['temperature']:.3f}, fitted on PublicTest by negative log-likelihood, "
              "is applied to the shipped model's probabilities (`softmax(log p / T)` of the TTA average; "
              "the top class never changes). Expected calibration error (15 equal-width bins) and NLL:", "",
              "| split | ECE before | ECE after | NLL before | NLL after |", "|---|---|---|---|---|"]
    for split in ("PublicTest", "PrivateTest"):
        c = metrics[split]["calibration"]
        lines.append(f"| {split} | {c['ece_before']:.4f} | {c['ece_after']:.4f} | {c['nll_before']:.4f} "
                     f"| {c['nll_after']:.4f} |")
    sp = m["speed"]
    disgust, n_train = m["train_counts"]["disgust"], sum(m["train_counts"].values())
    lines += [
        "", "## Cost", "",
        f"{m['params']:,} parameters ({m['params'] * 4 / 2**20:.1f} MB of float32 weights); "
        f"{m['gmacs']:.3f} GMACs per face with its TTA (`{m['tta']}`) counted "
        "(`torch.utils.flop_counter`). Throughput of `predict_proba` (faces 48x48 uint8 in, "
        f"probabilities out, TTA included), 2 CPU threads, {cpu_model()}, "
        f"torch {torch.__version__}:", "",
        "| backend | latency, batch 1 (ms per face) | batch 1 (images/s) | batch 64 (images/s) |",
        "|---|---|---|---|",
        f"| PyTorch eager | {1000 / sp['torch_1']:.2f} | {sp['torch_1']:.0f} | {sp['torch_64']:.0f} |",
        f"| ONNX Runtime{' int8' if m.get('int8') else ''} (`load(..., backend=\"onnx\")`) "
        f"| {1000 / sp['onnx_1']:.2f} | {sp['onnx_1']:.0f} "
        f"| {sp['onnx_64']:.0f} |",
        "", "## Known limits", "",
        "- FER2013's labels are noisy (the FER+ re-annotation, ten annotators per image, disagrees "
        "with many of them), and the data holds near-duplicate and non-face images: a model that "
        "scores higher on it is not always better on real faces.",
        "- 48x48 gray faces, roughly frontal, cropped by a face detector: the model has never seen color, "
        "profile views, occlusions larger than sunglasses or crops with much background.",
        "- The faces were found by Google image search: skewed toward adults and toward some ethnicities, "
        "with no demographic labels to measure per-group accuracy. Do not use it to make decisions about "
        "people.",
        f"- Disgust has {disgust:,} training images of {n_train:,} ({disgust / n_train:.1%}): its scores "
        "rest on few examples.",
        "- A posed expression is not a felt emotion: the labels describe faces, not inner states.",
        "", f"fer {fer_core.__version__}; measured {datetime.date.today().isoformat()}.", "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the run folder of the trained model")
    parser.add_argument("--name", default="default")
    parser.add_argument("--seed-runs", type=Path, nargs="*", default=[])
    parser.add_argument("--rerun", type=Path, default=None,
                        help="the same recipe and seed trained again (the card compares the two)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--into", type=Path, default=INTO)
    parser.add_argument("--card", type=Path, default=None, help="default: see default_card()")
    parser.add_argument("--int8", action="store_true",
                        help="also ship model.onnx, quantized to int8 (backend='onnx' runs it)")
    parser.add_argument("--speed-seconds", type=float, default=1.0, help="per timing round (3 rounds)")
    args = parser.parse_args(argv)
    args.card = args.card or default_card(args.name)
    command = invocation(__file__, argv)
    config = json.loads((args.run / WEIGHTS_CONFIG).read_text())
    ds = load_dataset(args.data)
    m = measure(args.run, ds, args.seed_runs, args.rerun)
    folder = args.into / args.name
    folder.mkdir(parents=True, exist_ok=True)
    weights = (args.run / WEIGHTS_NAME).read_bytes()
    atomic_write(folder / WEIGHTS_NAME, lambda tmp: tmp.write_bytes(weights))
    shipped = {**config, "name": args.name, "temperature": m["temperature"],
               "weights_sha256": sha256_file(folder / WEIGHTS_NAME)}
    atomic_write_text(folder / WEIGHTS_CONFIG, json.dumps(shipped, indent=2) + "\n")
    (folder / ONNX_NAME).unlink(missing_ok=True)  # a stale int8 copy of other weights
    if args.int8:
        m["int8"] = ship_int8(folder, ds, m["private_prediction"])
        shipped["onnx"] = {**json.loads((folder / WEIGHTS_CONFIG).read_text())["onnx"],
                           "sha256": m["int8"]["sha256"]}
    torch.set_num_threads(2)
    m["speed"] = speed(folder, ds.split("report").images[:64, 0].numpy(), args.speed_seconds)
    shipped["card"] = card_data(args.name, m, config, command)
    atomic_write_text(folder / WEIGHTS_CONFIG, json.dumps(shipped, indent=2) + "\n")
    png = Path("docs") / f"{args.name}-confusion.png"
    (args.card.parent / "docs").mkdir(parents=True, exist_ok=True)
    plot_confusion(m["metrics"]["PrivateTest"]["confusion"], args.card.parent / png,
                   f"{args.name}: PrivateTest (n={m['metrics']['PrivateTest']['n']:,})")
    card = render(args.name, m, config, command, png.as_posix())
    # the robustness table (benchmarks/robustness.py --cards) is measured apart: carried over
    old = args.card.read_text(encoding="utf-8") if args.card.is_file() else ""
    atomic_write_text(args.card, keep_generated_section(old, card))
    print(f"shipped {folder} ({len(weights) / 2**20:.1f} MB); card {args.card}; "
          f"PrivateTest {m['metrics']['PrivateTest']['accuracy']:.2%}")
    if args.into.resolve() == INTO.resolve():
        print("shipped models now:", ", ".join(shipped_models()))


if __name__ == "__main__":
    main()
