"""Video corruptions (fer_core.corruptions): five severities each, seeded, and as training augmentation."""

from __future__ import annotations

import pytest
import torch

from fer_core import ConfigError
from fer_core.config import AugmentConfig, ExperimentConfig
from fer_core.corruptions import CORRUPTIONS, SEVERITIES, corrupt, corrupt_mixed
from fer_core.training import BatchAugment


def _faces(n: int = 8, seed: int = 0) -> torch.Tensor:
    """Face-like test images: a smooth gradient with a dark 'eye' band and noise."""
    g = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(60, 200, 48).expand(48, 48)
    img = ramp.clone()
    img[14:20, 8:40] = 40
    x = img.expand(n, 1, 48, 48) + torch.randn(n, 1, 48, 48, generator=g) * 10
    return x.round().clamp(0, 255).to(torch.uint8)


def _change(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).abs().mean())


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_each_corruption_keeps_the_format_and_grows_with_severity(name):
    x = _faces()
    changes = []
    for s in range(1, SEVERITIES + 1):
        y = corrupt(x, name, s, torch.Generator().manual_seed(0))
        assert y.dtype == torch.uint8 and y.shape == x.shape
        changes.append(_change(x, y))
    assert changes[0] > 0
    assert changes[-1] > changes[0]  # the strongest severity changes the faces more than the mildest
    assert sorted(changes) == changes or name in ("jpeg",)  # jpeg's block grid need not be monotone


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_the_same_generator_seed_gives_the_same_images(name):
    x = _faces()
    a = corrupt(x, name, 4, torch.Generator().manual_seed(5))
    b = corrupt(x, name, 4, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_random_parts_differ_by_seed_and_per_image():
    x = _faces(32)
    a = corrupt(x, "gaussian_noise", 3, torch.Generator().manual_seed(1))
    b = corrupt(x, "gaussian_noise", 3, torch.Generator().manual_seed(2))
    assert not torch.equal(a, b)
    same = _faces(32, seed=0)[:1].expand(32, 1, 48, 48).contiguous()
    rotated = corrupt(same, "rotation", 3, torch.Generator().manual_seed(0))
    assert len({tuple(r.flatten().tolist()) for r in rotated}) == 2  # clockwise or anticlockwise


def test_low_light_darkens_and_small_face_loses_detail():
    x = _faces()
    assert corrupt(x, "low_light", 3).float().mean() < 0.7 * x.float().mean()
    small = corrupt(x, "small_face", 5)
    # detail lost: much less difference between neighbouring pixels
    assert small.float().diff(dim=-1).abs().mean() < 0.5 * x.float().diff(dim=-1).abs().mean()


@pytest.mark.parametrize("args,message", [
    (("blur", 1), "unknown corruption 'blur'; expected one of gaussian_blur"),
    (("jpeg", 0), "severity must be an integer from 1 to 5"),
    (("jpeg", 6), "severity must be an integer from 1 to 5"),
])
def test_bad_names_and_severities(args, message):
    with pytest.raises(ValueError, match=message):
        corrupt(_faces(), *args)


def test_mixed_corruption_draws_nothing_when_off():
    x = _faces()
    g = torch.Generator().manual_seed(0)
    before = g.get_state()
    assert corrupt_mixed(x, [], 0.5, 3, g) is x
    assert corrupt_mixed(x, ["jpeg"], 0.0, 3, g) is x
    assert torch.equal(g.get_state(), before)


def test_mixed_corruption_hits_about_its_share_and_is_seeded():
    x = _faces(400)
    a = corrupt_mixed(x, list(CORRUPTIONS), 0.5, 5, torch.Generator().manual_seed(3))
    b = corrupt_mixed(x, list(CORRUPTIONS), 0.5, 5, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    changed = (a != x).flatten(1).any(dim=1).float().mean().item()
    assert 0.4 < changed < 0.6


def test_augment_config_is_validated():
    cfg = AugmentConfig(corruptions=["jpeg", "gaussian_blur"], corruption_severity=5)
    assert cfg.corruption_prob == 0.5
    for bad in ({"corruptions": ["jpg"]}, {"corruptions": ["jpeg", "jpeg"]}, {"corruption_severity": 6},
                {"corruption_prob": 1.5}):
        with pytest.raises(ConfigError) as err:
            ExperimentConfig.from_dict({"data": {"path": "x"}, "train": {"augment": bad}})
        assert "[train.augment" in str(err.value) and "corruption" in str(err.value)


def test_batch_augment_corrupts_uint8_before_normalising():
    x = _faces(64)
    off = BatchAugment(AugmentConfig())
    assert off.corrupt(x, torch.Generator()) is x
    on = BatchAugment(AugmentConfig(corruptions=["gaussian_blur"], corruption_prob=1.0))
    y = on.corrupt(x, torch.Generator().manual_seed(0))
    assert y.dtype == torch.uint8 and (y != x).flatten(1).any(dim=1).all()


def test_training_with_corruptions_resumes_bit_for_bit(tmp_path, fer2013_slice, one_thread):
    from fer_core import hookimpl, plugins
    from fer_core.training import Trainer, resume_trainer

    raw = {"name": "corrupt", "seed": 4, "device": "cpu",
           "data": {"path": str(fer2013_slice), "cache": False, "eval_limit": 20},
           "model": {"options": {"widths": [8, 16]}},
           "train": {"epochs": 1, "max_steps": 6, "batch_size": 16, "checkpoint_every": 3,
                     "augment": {"corruptions": list(CORRUPTIONS), "corruption_prob": 0.8,
                                 "corruption_severity": 5}}}

    class StopAt3:
        @hookimpl
        def after_batch(self, trainer, step, loss):
            if step == 3:
                trainer.control.should_stop = True

    base = plugins.PluginSet.load(allow=["fer_models"])
    straight = Trainer(ExperimentConfig.from_dict(raw), plugins=base, run_root=tmp_path / "a")
    straight.fit()
    stopped = Trainer(ExperimentConfig.from_dict(raw), run_root=tmp_path / "b",
                      plugins=plugins.PluginSet.load(allow=["fer_models"], extra={"stop": StopAt3()}))
    stopped.fit()
    assert stopped.step == 3
    resumed = resume_trainer(stopped.run.path, plugins=base)
    resumed.fit()
    assert resumed.step == straight.step == 6
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    # and the corruptions did change training: without them the weights differ
    raw["train"]["augment"] = {}
    plain = Trainer(ExperimentConfig.from_dict(raw), plugins=base, run_root=tmp_path / "c")
    plain.fit()
    weights = straight.model.state_dict()
    assert not all(torch.equal(v, plain.model.state_dict()[k]) for k, v in weights.items())
