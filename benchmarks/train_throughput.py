"""Training throughput: the fer Trainer against the bare model and a per-sample DataLoader pipeline.

For each model, three pipelines train the same architecture (same seed, same initial weights) with
the same batch size, the same AdamW optimizer (the trainer's no-decay split), the same loss
(``cross_entropy`` on soft targets) and the same number of compute threads:

(a) ``bare``: forward + backward + optimizer step on one fixed random batch already in memory,
    the limit of what any data path can reach;
(b) ``DataLoader``: the conventional pipeline of the reports: a Dataset returning one PIL image
    at a time from the uint8 FER2013 array, a per-sample torchvision Compose (random crop with
    padding 4, rotation 10 degrees, horizontal flip, ColorJitter brightness/contrast, ToTensor,
    Normalize, RandomErasing) and MixUp/CutMix on the collated batch, through
    ``DataLoader(batch_size, shuffle=True, num_workers=2)``. The two worker processes compete
    with the two compute threads for the two cores: that is what such a pipeline costs there;
(c) ``Trainer``: ``fer_core``'s Trainer on the real FER2013 training split with the equivalent
    batch augmentation (translate 4 px, rotate 10, hflip, brightness, contrast, erasing,
    MixUp + CutMix), timed from its own ``after_batch`` hook.

Each pipeline is built once per model (model and optimizer, DataLoader and its workers, Trainer)
and trained in segments, interleaved: after ``--warmup`` untimed steps each, every round runs
each pipeline for one untimed step and ``--steps`` timed steps, in an order rotated each round,
so machine noise hits all alike; the table shows the median images/second over the rounds.
Every pipeline is timed the same way: wall time from the end of one optimizer step to the end of
the step ``--steps`` later, i.e. whole iterations (fetching and augmenting the batch, forward,
backward, optimizer step, reading the loss). For the Trainer both ends are its ``after_batch``
hook; a hook then stops ``fit()`` mid-epoch and the next segment's ``fit()`` continues from
there (no evaluation happens inside the window: all segments lie in the first epoch). Start-up,
worker spawning and the warm-up steps lie outside the windows.

A second, smaller table times the data paths alone (no model): batches of the fer path (index
the uint8 tensor, convert, ``BatchAugment``: what ``Trainer._forward_loss`` does before the
model) against batches out of the DataLoader above, to show how far each is from being the
bottleneck.

EfficientNet-B0 is timm's ``efficientnet_b0`` (random init, ``in_chans=1``, 7 classes): fer_models'
built-in backbone of that name when it has one, else a benchmark-local plugin registering
``timm.create_model("efficientnet_b0", in_chans=1, num_classes=7, pretrained=False)``.

    python benchmarks/train_throughput.py [--models small_cnn,efficientnet_b0] [--steps N]
        [--warmup N] [--rounds N] [--batch-size 64] [--data PATH] [--out BENCHMARKS-section.md]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, default_collate
from torchvision import transforms as T
from torchvision.transforms import v2

import fer_core
from fer_core.classes import NUM_CLASSES
from fer_core.config import ExperimentConfig, TrainConfig
from fer_core.data import FerDataset, load_dataset
from fer_core.plugins import PluginSet
from fer_core.training import BatchAugment, Trainer, build_optimizer, to_model_input
from fer_core.training._augment import single_threaded
from fer_core.training._transforms import MEAN, STD

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_model

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = "../shared/data/fer2013/fer2013.csv.gz"  # relative to the repository root
THREADS = 2
WORKERS = 2
SEED = 0
PIPELINES = ("bare", "dataloader", "trainer")
# (timed steps per round, warm-up steps before round 1) per model. Short segments and many rounds:
# on a shared machine the load comes and goes in phases, and each phase should hit every
# pipeline. The whole default run takes about 5 minutes on 2 idle cores.
DEFAULT_STEPS = {"small_cnn": (10, 5), "efficientnet_b0": (2, 3)}
SEGMENT_WARMUP = 1  # untimed steps before each timed segment (caches, allocator)
TARGET_BARE, TARGET_LOADER = 0.90, 3.0
DATA_BATCHES = 40  # per round, for the data-path-alone table

# One augmentation, in both forms. Trainer: [train.augment] options (whole-batch tensor ops).
AUGMENT = {"translate": 4.0, "rotate": 10.0, "hflip": True, "brightness": 0.2, "contrast": 0.2,
           "erasing": 0.5, "erasing_area": (0.02, 0.25), "mixup": 0.4, "cutmix": 1.0, "mix_prob": 1.0}


def per_sample_transform() -> T.Compose:
    """The per-sample torchvision pipeline the reports used, extended to the same augmentation."""
    a = AUGMENT
    return T.Compose([
        T.RandomCrop(48, padding=int(a["translate"])),
        T.RandomRotation(a["rotate"]),
        T.RandomHorizontalFlip(),
        T.ColorJitter(brightness=a["brightness"], contrast=a["contrast"]),
        T.ToTensor(),
        T.Normalize((MEAN,), (STD,)),
        T.RandomErasing(p=a["erasing"], scale=a["erasing_area"], value="random"),
    ])


class PilImages(Dataset):
    """FER2013 rows as PIL images, transformed one sample at a time (in the worker processes)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable[[Image.Image], Any]):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])


class MixCollate:
    """Collate, then MixUp or CutMix on the batch (torchvision.transforms.v2, as its docs show)."""

    def __init__(self) -> None:
        self.mix = v2.RandomChoice([v2.MixUp(alpha=AUGMENT["mixup"], num_classes=NUM_CLASSES),
                                    v2.CutMix(alpha=AUGMENT["cutmix"], num_classes=NUM_CLASSES)])

    def __call__(self, batch: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mix(*default_collate(batch))


def _efficientnet_b0(num_classes: int = 7, in_chans: int = 1, **options: Any) -> torch.nn.Module:
    import timm

    return timm.create_model("efficientnet_b0", in_chans=in_chans, num_classes=num_classes,
                             pretrained=False, **options)


class BenchmarkBackbones:
    """Registers EfficientNet-B0 (timm, random init) for this benchmark only."""

    @fer_core.hookimpl
    def register_backbones(self, register: Callable[..., None]) -> None:
        register("efficientnet_b0", _efficientnet_b0, "EfficientNet-B0 from timm, random init")


def load_plugins(**extra: object) -> PluginSet:
    """fer_models' built-ins, plus the benchmark-local EfficientNet-B0 when they lack one."""
    plugins = PluginSet.load(allow=["fer_models"], extra=extra)
    if "efficientnet_b0" in plugins.backbones():
        return plugins
    return PluginSet.load(allow=["fer_models"], extra={"benchmark": BenchmarkBackbones(), **extra})


class SegmentClock:
    """Times the trainer from its own hook and stops it at the end of each segment.

    ``arm(first, last)``: the window runs from the end of optimizer step ``first`` to the end of
    step ``last``; there ``trainer.control.should_stop`` ends ``fit()`` (mid-epoch: no evaluation
    until the next ``fit()`` continues from the same position).
    """

    def __init__(self) -> None:
        self.first = self.last = 0
        self.start: float | None = None
        self.seconds: float | None = None

    def arm(self, first: int, last: int) -> None:
        self.first, self.last, self.start, self.seconds = first, last, None, None

    @fer_core.hookimpl
    def after_batch(self, trainer: Any, step: int, loss: float) -> None:
        now = time.perf_counter()
        if step == self.first:
            self.start = now
        if step == self.last:
            if self.start is not None:
                self.seconds = now - self.start
            trainer.control.should_stop = True


# -- the three pipelines ------------------------------------------------------------------------
# Each pipeline stays alive for the whole benchmark of one model (one model and optimizer, one
# DataLoader with its workers, one Trainer) and runs in segments: ``segment(warmup, steps)``
# trains ``warmup`` untimed steps, then returns the seconds of the next ``steps``.
Batch = tuple[torch.Tensor, torch.Tensor]


class _LoopPipeline:
    """A plain training loop over ``batches``: the bare and the DataLoader pipelines."""

    def __init__(self, bench: Bench, batches: Iterator[Batch]):
        self.model, self.optimizer, self.loss_fn = bench.model()
        self.batches = batches

    def segment(self, warmup: int, steps: int) -> float:
        start = 0.0
        for done in range(warmup + steps):
            if done == warmup:
                start = time.perf_counter()
            x, y = next(self.batches)
            loss = self.loss_fn(self.model(x).float(), y)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            float(loss.detach())
        return time.perf_counter() - start

    def close(self) -> None:
        pass


class BarePipeline(_LoopPipeline):
    """(a) one fixed random batch already in memory: the model's own speed."""

    def __init__(self, bench: Bench):
        g = torch.Generator().manual_seed(SEED)
        x = torch.randn(bench.batch_size, 1, 48, 48, generator=g)
        y = torch.softmax(torch.randn(bench.batch_size, NUM_CLASSES, generator=g), dim=1)
        super().__init__(bench, iter(lambda: (x, y), None))


class LoaderPipeline(_LoopPipeline):
    """(b) per-sample PIL + torchvision transforms in DataLoader worker processes.

    The workers stay alive between segments; between them they only top up the prefetch queue
    and wait, so within a segment they make as many batches as it consumes.
    """

    def __init__(self, bench: Bench):
        self.loader = bench.loader()
        super().__init__(bench, self._forever())

    def _forever(self) -> Iterator[Batch]:
        while True:  # a new epoch when one runs out
            yield from self.loader

    def close(self) -> None:
        self.batches.close()  # ends the epoch's iterator: its workers shut down


class TrainerPipeline:
    """(c) the fer Trainer, continued segment after segment by ``fit()``."""

    def __init__(self, bench: Bench, total_steps: int):
        self.clock = SegmentClock()
        cfg = ExperimentConfig.from_dict({
            "name": "throughput", "seed": SEED, "device": "cpu", "threads": THREADS,
            "data": {"path": str(bench.data_path), "eval_limit": 64},
            "model": {"backbone": bench.model_name},
            "train": {**bench.tc.model_dump(), "epochs": 1},
            "evaluate": False,
        })
        self.trainer = Trainer(cfg, plugins=load_plugins(clock=self.clock), dataset=bench.dataset,
                               progress=False)
        if total_steps > self.trainer.steps_per_epoch:
            raise SystemExit(f"{total_steps} steps in all: more than one epoch "
                             f"({self.trainer.steps_per_epoch}); use fewer --steps, --warmup or --rounds")

    def segment(self, warmup: int, steps: int) -> float:
        first = self.trainer.step + warmup
        self.clock.arm(first, first + steps)
        self.trainer.control.should_stop = False
        self.trainer.fit()
        if self.clock.seconds is None:
            raise RuntimeError("the trainer stopped before the end of the timed window")
        return self.clock.seconds

    def close(self) -> None:
        pass


class Bench:
    """What the three pipelines of one model share: data, model factory, optimizer and loss."""

    def __init__(self, model_name: str, dataset: FerDataset, data_path: Path, batch_size: int):
        self.model_name, self.dataset, self.data_path = model_name, dataset, data_path
        self.batch_size = batch_size
        self.plugins = load_plugins()
        self.registered_by = self.plugins.get("backbone", model_name).plugin
        self.tc = TrainConfig(batch_size=batch_size, optimizer="adamw", loss="cross_entropy",
                              checkpoint_every=0, augment=AUGMENT)
        train = dataset.split("train")
        self.images = train.images[:, 0].numpy()
        self.labels = train.labels.numpy()

    def model(self) -> tuple[torch.nn.Module, torch.optim.Optimizer, torch.nn.Module]:
        """The model (same seed, same initial weights as the Trainer's), AdamW and the loss."""
        torch.manual_seed(SEED)
        model = self.plugins.get("backbone", self.model_name).build(num_classes=NUM_CLASSES, in_chans=1)
        model.train()
        return model, build_optimizer(model, self.tc), self.plugins.get("loss", "cross_entropy").build()

    def loader(self) -> DataLoader:
        data = PilImages(self.images, self.labels, per_sample_transform())
        return DataLoader(data, batch_size=self.batch_size, shuffle=True, num_workers=WORKERS,
                          collate_fn=MixCollate(), drop_last=True)

    def pipelines(self, total_steps: int) -> dict[str, Any]:
        return {"bare": BarePipeline(self), "dataloader": LoaderPipeline(self),
                "trainer": TrainerPipeline(self, total_steps)}

    # -- the data paths alone (no model) ----------------------------------------------------------
    def fer_batches(self, batches: int, warmup: int = 4) -> float:
        """Seconds for ``batches`` batches of the trainer's data path (as in ``Trainer._forward_loss``)."""
        train = self.dataset.split("train")
        augment = BatchAugment(self.tc.augment, NUM_CLASSES)
        g = torch.Generator().manual_seed(SEED)
        order = torch.randperm(len(train), generator=g)
        b = self.batch_size
        start = 0.0
        for i in range(warmup + batches):
            if i == warmup:
                start = time.perf_counter()
            idx = order[i * b:(i + 1) * b]
            with single_threaded():
                augment(to_model_input(train.images[idx]), train.labels[idx], g)
        return time.perf_counter() - start

    def loader_batches(self, batches: int, warmup: int = 4) -> float:
        """Seconds for ``batches`` batches out of the per-sample DataLoader, after ``warmup`` batches."""
        it = iter(self.loader())
        try:
            for _ in range(warmup):
                next(it)
            start = time.perf_counter()
            for _ in range(batches):
                next(it)
            return time.perf_counter() - start
        finally:
            del it


# -- report -------------------------------------------------------------------------------------
def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min)"


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def markdown(rows: list[dict[str, Any]], data_rows: dict[str, list[float]], args: argparse.Namespace,
             load_start: str, load_end: str, seconds: float) -> str:
    cmd = "python benchmarks/train_throughput.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    lines = [
        "### Training throughput (images/second)",
        "",
        f"- machine: {cpu_model()}, {os.cpu_count()} logical CPUs; torch {torch.__version__}, "
        f"{THREADS} compute threads (`torch.set_num_threads({THREADS})`), DataLoader {WORKERS} workers",
        f"- command: `{cmd.strip()}`",
        f"- batch size {args.batch_size}, AdamW, cross-entropy on soft (MixUp/CutMix) targets; "
        f"{args.rounds} interleaved rounds (order rotated), median shown; whole run {seconds / 60:.1f} min",
        f"- load average at start: {load_start}; at end: {load_end}",
        "",
        "| model | bare img/s | DataLoader img/s | Trainer img/s | Trainer/bare | Trainer/DataLoader "
        "| target met? |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ok_bare, ok_loader = r["vs_bare"] >= TARGET_BARE, r["vs_loader"] >= TARGET_LOADER
        verdict = (f"≥{TARGET_BARE:.0%} of bare: {'yes' if ok_bare else 'no'}; "
                   f"≥{TARGET_LOADER:g}x DataLoader: {'yes' if ok_loader else 'no'}")
        lines.append(f"| {r['model']} | {r['bare']:.1f} | {r['dataloader']:.1f} | {r['trainer']:.1f} "
                     f"| {r['vs_bare']:.2f} | {r['vs_loader']:.2f} | {verdict} |")
    lines += ["", "Timed steps and every round's images/second (bare / DataLoader / Trainer):", ""]
    for r in rows:
        per_round = "; ".join(" / ".join(f"{v:.1f}" for v in vals)
                              for vals in zip(*r["rounds"].values(), strict=True))
        lines.append(f"- {r['model']} (backbone from plugin `{r['registered_by']}`): per pipeline "
                     f"{_steps(r['warmup'])} of warm-up, then per round {SEGMENT_WARMUP} untimed + "
                     f"{r['steps']} timed steps ({r['steps'] * args.rounds} timed per pipeline in all); "
                     f"rounds: {per_round}. The DataLoader pipeline runs at "
                     f"{r['dataloader'] / r['bare']:.2f} of bare, so no data path can be more than "
                     f"{r['bare'] / r['dataloader']:.2f}x faster than it here.")
    if data_rows:
        fer, loader = statistics.median(data_rows["fer"]), statistics.median(data_rows["dataloader"])
        lines += [
            "",
            f"Data path alone, no model ({DATA_BATCHES} batches of {args.batch_size} per round, "
            f"{args.rounds} rounds, median):",
            "",
            "| data path | img/s | relative |",
            "|---|---:|---:|",
            f"| fer: uint8 tensor + BatchAugment (main process, one thread as in the Trainer) | {fer:.0f} "
            f"| {fer / loader:.1f}x |",
            f"| per-sample PIL + torchvision, DataLoader {WORKERS} workers | {loader:.0f} | 1.0x |",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="small_cnn,efficientnet_b0",
                        help="comma-separated backbones (default: small_cnn,efficientnet_b0)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per pipeline per round (default: 10 small_cnn, 2 efficientnet_b0)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed steps per pipeline before round 1 (default: 5 small_cnn, "
                        "3 efficientnet_b0)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default: 10)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data", default=DEFAULT_DATA,
                        help=f"FER2013 csv(.gz), relative to the repository root (default: {DEFAULT_DATA})")
    parser.add_argument("--no-data-path", dest="data_path", action="store_false",
                        help="skip the data-path-alone table")
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown section here")
    args = parser.parse_args(argv)

    torch.set_num_threads(THREADS)
    started, load_start = time.perf_counter(), load_average()
    data_path = (REPO / args.data).resolve()
    dataset = load_dataset(data_path)
    rows = []
    for model_name in [m.strip() for m in args.models.split(",") if m.strip()]:
        steps, warmup = DEFAULT_STEPS.get(model_name, (20, 3))
        steps, warmup = args.steps or steps, max(1, args.warmup if args.warmup is not None else warmup)
        bench = Bench(model_name, dataset, data_path, args.batch_size)
        pipelines = bench.pipelines(total_steps=warmup + args.rounds * (SEGMENT_WARMUP + steps))
        rounds: dict[str, list[float]] = {p: [] for p in PIPELINES}
        try:
            for p in PIPELINES:
                pipelines[p].segment(warmup, 0)
            for r in range(args.rounds):
                for p in PIPELINES[r % 3:] + PIPELINES[:r % 3]:  # rotated each round
                    rounds[p].append(steps * args.batch_size / pipelines[p].segment(SEGMENT_WARMUP, steps))
                    print(f"[{model_name}] round {r + 1}: {p} {rounds[p][-1]:.1f} img/s",
                          file=sys.stderr, flush=True)
        finally:
            for pipeline in pipelines.values():
                pipeline.close()
        med = {p: statistics.median(v) for p, v in rounds.items()}
        rows.append({"model": model_name, **med, "vs_bare": med["trainer"] / med["bare"],
                     "vs_loader": med["trainer"] / med["dataloader"], "steps": steps, "warmup": warmup,
                     "rounds": rounds, "registered_by": bench.registered_by})
    data_rows: dict[str, list[float]] = {"fer": [], "dataloader": []}
    if args.data_path and rows:
        bench = Bench(rows[0]["model"], dataset, data_path, args.batch_size)
        images = DATA_BATCHES * args.batch_size
        for r in range(args.rounds):
            for name in (("fer", "dataloader") if r % 2 == 0 else ("dataloader", "fer")):
                timer = bench.fer_batches if name == "fer" else bench.loader_batches
                seconds = timer(DATA_BATCHES)
                data_rows[name].append(images / seconds)
                print(f"[data path] round {r + 1}: {name} {data_rows[name][-1]:.0f} img/s",
                      file=sys.stderr, flush=True)
    section = markdown(rows, data_rows if args.data_path else {}, args, load_start, load_average(),
                       time.perf_counter() - started)
    print(section)
    if args.out is not None:
        args.out.write_text(section, encoding="utf-8")


if __name__ == "__main__":
    main()
