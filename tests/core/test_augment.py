"""Batch augmentation: shapes, per-image randomness, determinism, MixUp/CutMix targets, eval views."""

from __future__ import annotations

import pytest
import torch

from fer_core.config import AugmentConfig
from fer_core.training import BatchAugment, eval_views
from fer_core.training._transforms import STD


def _augment(**options) -> BatchAugment:
    """Everything off (hflip too) unless given."""
    return BatchAugment(AugmentConfig(**{"hflip": False, **options}))


def _batch(n: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 48, 48, generator=g), torch.arange(n) % 7


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


FULL = {"crop_size": 40, "translate": 3, "rotate": 10, "scale": 0.1, "hflip": True,
        "brightness": 0.2, "contrast": 0.2, "erasing": 0.5}


def test_crop_size_gives_square_crops():
    x, y = _batch()
    out, target = _augment(crop_size=40)(x, y, _gen())
    assert out.shape == (16, 1, 40, 40)
    assert torch.equal(target, y)
    out, _ = BatchAugment(AugmentConfig(**FULL))(x, y, _gen())
    assert out.shape == (16, 1, 40, 40)


def test_all_off_is_the_identity():
    x, y = _batch()
    out, target = _augment()(x.clone(), y, _gen())
    assert torch.equal(out, x) and torch.equal(target, y)


def test_random_crops_stay_inside_the_image():
    x = torch.full((64, 1, 48, 48), 5.0)  # zero padding from outside the image would show
    out, _ = _augment(crop_size=40)(x, torch.zeros(64, dtype=torch.long), _gen())
    assert torch.allclose(out, torch.full_like(out, 5.0), atol=1e-5)
    shifted, _ = _augment(crop_size=40, translate=8)(x, torch.zeros(64, dtype=torch.long), _gen())
    assert (shifted < 4.9).any()  # a shift beyond the crop's slack does reach outside
    # and the crop positions differ per image
    img, y = _batch()
    a, _ = _augment(crop_size=40)(img[:1].expand(8, -1, -1, -1), y[:8], _gen())
    assert not torch.allclose(a[0], a[1])


def test_flip_mirrors_some_images_and_not_others():
    x, y = _batch(n=32)
    out, _ = _augment(hflip=True)(x, y, _gen())
    same = [torch.allclose(out[i], x[i], atol=1e-5) for i in range(32)]
    mirrored = [torch.allclose(out[i], x[i].flip(-1), atol=1e-5) for i in range(32)]
    assert all(s != m for s, m in zip(same, mirrored, strict=True))  # each image one or the other
    assert 0 < sum(mirrored) < 32  # decided per image


def test_same_seed_same_batch_other_seed_other_batch():
    x, y = _batch()
    aug = BatchAugment(AugmentConfig(**FULL))
    a, _ = aug(x, y, _gen(1))
    b, _ = aug(x, y, _gen(1))
    c, _ = aug(x, y, _gen(2))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    # and the images of one batch get different draws
    xs = x[:1].expand(8, -1, -1, -1).contiguous()
    d, _ = aug(xs, y[:8], _gen(1))
    assert not torch.allclose(d[0], d[1])


def test_erasing_replaces_one_rectangle_on_about_its_share_of_images():
    n = 400
    x = torch.full((n, 1, 48, 48), 10.0)  # far outside anything the N(0, 1) fill gives
    out, _ = _augment(erasing=0.5, erasing_area=(0.02, 0.25))(x, torch.zeros(n, dtype=torch.long), _gen())
    changed = out != x
    erased = changed.flatten(1).any(dim=1)
    assert 0.38 < erased.float().mean() < 0.62  # p = 0.5, n = 400: 4.8 standard deviations
    for i in torch.nonzero(erased).flatten().tolist():
        rows = torch.nonzero(changed[i, 0].any(dim=1)).flatten()
        cols = torch.nonzero(changed[i, 0].any(dim=0)).flatten()
        box = changed[i, 0, rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.all(), "the erased pixels form one filled rectangle"
        assert 1 <= int(changed[i].sum()) <= 0.25 * 48 * 48


def test_brightness_shifts_each_image_by_its_own_amount():
    x, y = _batch(n=32)
    out, _ = _augment(brightness=0.3)(x, y, _gen())
    shift = (out - x).flatten(1)
    per_image = shift.mean(dim=1)
    assert torch.allclose(shift, per_image[:, None].expand_as(shift), atol=1e-5)  # one shift per image
    assert per_image.abs().max() <= 0.3 / STD + 1e-5  # [0, 1] pixel units, normalised
    assert len(per_image.unique()) == 32


def test_contrast_scales_each_image_about_its_mean():
    x, y = _batch(n=32)
    out, _ = _augment(contrast=0.3)(x, y, _gen())
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    assert torch.allclose(out.mean(dim=(1, 2, 3), keepdim=True), mean, atol=1e-5)
    factor = ((out - mean) / (x - mean)).flatten(1)
    per_image = factor.median(dim=1).values
    assert torch.allclose(factor, per_image[:, None].expand_as(factor), atol=1e-3)
    assert ((per_image >= 0.7 - 1e-4) & (per_image <= 1.3 + 1e-4)).all()
    assert per_image.std() > 0.01


def _partner(out_i: torch.Tensor, x: torch.Tensor, i: int) -> tuple[int, float, float]:
    """The image mixed into ``out_i`` besides ``x[i]``: index, weight of x[i], residual."""
    best = (-1, 0.0, float("inf"))
    for j in range(len(x)):
        if j == i:
            continue
        d = x[i] - x[j]
        lam = float(((out_i - x[j]) * d).sum() / (d * d).sum())
        res = float((out_i - (lam * x[i] + (1 - lam) * x[j])).abs().max())
        if res < best[2]:
            best = (j, lam, res)
    return best


def test_mixup_gives_soft_targets_mixing_exactly_two_labels():
    x, y = _batch(n=7)  # labels 0..6, one image each
    torch.manual_seed(0)  # the MixUp draw uses torch's global generator
    out, target = _augment(mixup=1.0)(x, y, _gen())
    assert target.shape == (7, 7)
    assert torch.allclose(target.sum(dim=1), torch.ones(7))
    for i in range(7):
        nonzero = torch.nonzero(target[i] > 1e-6).flatten().tolist()
        assert len(nonzero) == 2 and i in nonzero
        (j,) = [k for k in nonzero if k != i]
        lam = float(target[i, i])
        assert torch.allclose(out[i], lam * x[i] + (1 - lam) * x[j], atol=1e-5)


def test_cutmix_weights_are_the_pasted_area():
    x, y = _batch(n=7)
    torch.manual_seed(0)
    out, target = _augment(cutmix=1.0)(x, y, _gen())
    assert torch.allclose(target.sum(dim=1), torch.ones(7))
    for i in range(7):
        nonzero = torch.nonzero(target[i] > 1e-6).flatten().tolist()
        assert i in nonzero and len(nonzero) <= 2
        from_i = (out[i] == x[i]).float().mean()
        assert abs(float(target[i, i]) - float(from_i)) < 1e-6
        if len(nonzero) == 2:
            (j,) = [k for k in nonzero if k != i]
            assert ((out[i] == x[i]) | (out[i] == x[j])).all()


def test_mix_prob_zero_never_mixes():
    x, y = _batch()
    out, target = _augment(mixup=1.0, cutmix=1.0, mix_prob=0.0)(x, y, _gen())
    assert torch.equal(out, x) and torch.equal(target, y)


@pytest.mark.parametrize("mixer", ["mixup", "cutmix"])
def test_soft_labels_are_mixed_like_the_images(mixer):
    n = 8
    x, _ = _batch(n=n)
    soft = torch.distributions.Dirichlet(torch.ones(7)).sample((n,))
    torch.manual_seed(0)
    out, target = _augment(**{mixer: 1.0})(x, soft.clone(), _gen())
    assert target.shape == (n, 7)
    assert torch.allclose(target.sum(dim=1), torch.ones(n), atol=1e-5)
    for i in range(n):
        if mixer == "mixup":
            j, lam, res = _partner(out[i], x, i)
            assert res < 1e-4
        else:
            lam = float((out[i] == x[i]).float().mean())
            others = [j for j in range(n) if j != i and ((out[i] == x[i]) | (out[i] == x[j])).all()]
            j = others[0] if others else i
        assert torch.allclose(target[i], lam * soft[i] + (1 - lam) * soft[j], atol=1e-5)


def test_eval_views():
    # pixel (r, c) holds 100 r + c, so every view says where it was cut from
    r = torch.arange(48, dtype=torch.float32)
    x = (100 * r[:, None] + r[None, :]).expand(2, 1, 48, 48)

    (none,) = eval_views(x, None, "none")
    assert torch.equal(none, x)
    (center,) = eval_views(x, 40, "none")
    assert center.shape[-2:] == (40, 40) and center[0, 0, 0, 0] == 404 and center[0, 0, -1, -1] == 4343

    flip = eval_views(x, 40, "flip")
    assert len(flip) == 2 and torch.equal(flip[0], center) and torch.equal(flip[1], center.flip(-1))
    assert flip[1][0, 0, 0, 0] == 443

    views = eval_views(x, 40, "tencrop")
    assert len(views) == 10 and all(v.shape == (2, 1, 40, 40) for v in views)
    top_left = [int(v[0, 0, 0, 0]) for v in views[:5]]
    bottom_right = [int(v[0, 0, -1, -1]) for v in views[:5]]
    assert top_left == [0, 8, 800, 808, 404]  # TL, TR, BL, BR, centre
    assert bottom_right == [3939, 3947, 4739, 4747, 4343]
    for plain, mirrored in zip(views[:5], views[5:], strict=True):
        assert torch.equal(mirrored, plain.flip(-1))

    with pytest.raises(ValueError, match="crop_size"):
        eval_views(x, None, "tencrop")
