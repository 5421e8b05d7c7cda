"""The Hugging Face path: a tiny random ViT saved to disk, loaded, trained and reloaded by the toolkit."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from fer_core import CLASSES, ConfigError, plugins
from fer_core.config import ExperimentConfig
from fer_core.training import Trainer, load_trained_model, to_model_input
from fer_models.backbones import HFImageClassifier
from fer_models.backbones.hf_vit import label_permutation

pytest.importorskip("transformers")
pytestmark = pytest.mark.usefixtures("one_thread")


def _hf_vit(**options) -> HFImageClassifier:
    return plugins.get_plugins().get("backbone", "hf_vit").build(num_classes=7, in_chans=1, **options)


def _always(path, label: str):
    """Make the saved ViT at ``path`` answer ``label`` (by its own index) for every image."""
    from transformers import ViTForImageClassification

    net = ViTForImageClassification.from_pretrained(path)
    with torch.no_grad():
        net.classifier.weight.zero_()
        net.classifier.bias.zero_()
        net.classifier.bias[net.config.label2id[label]] = 10.0
    net.save_pretrained(path)
    return path


def test_outputs_come_in_the_toolkits_class_order(make_tiny_vit):
    # The model's own order is the hub model's (sad, disgust, angry, ...): "happy" is its index 6,
    # the toolkit's index 3. A model in another order must still score right.
    path = _always(make_tiny_vit(), "happy")
    model = _hf_vit(model=str(path)).eval()
    with torch.no_grad():
        probs = model(torch.randn(4, 1, 48, 48)).softmax(1)
    assert probs.argmax(1).tolist() == [CLASSES.index("happy")] * 4
    assert model.permutation.tolist() == label_permutation(dict(enumerate(
        ("sad", "disgust", "angry", "neutral", "fear", "surprise", "happy"))))


def test_label_spellings_and_foreign_label_sets():
    spelled = {0: "Anger", 1: "Disgust", 2: "Fear", 3: "Happiness", 4: "Sadness", 5: "Surprise", 6: "Neutral"}
    assert label_permutation(spelled) == list(range(7))
    assert label_permutation({i: f"LABEL_{i}" for i in range(7)}) is None
    ferplus = dict(enumerate(["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                              "contempt"]))
    assert label_permutation(ferplus) is None
    assert label_permutation({**spelled, 6: "Happy"}) is None  # two labels for one class


def test_preprocessing_is_what_the_image_processor_does(tiny_vit_dir):
    from PIL import Image
    from transformers import AutoImageProcessor

    processor = AutoImageProcessor.from_pretrained(tiny_vit_dir)
    model = _hf_vit(model=str(tiny_vit_dir))
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    expected = processor(images=[Image.fromarray(f).convert("RGB") for f in faces],
                         return_tensors="pt")["pixel_values"]
    ours = model.preprocess(to_model_input(torch.from_numpy(faces)[:, None]))
    assert ours.shape == expected.shape == (3, 3, 32, 32)
    # PIL resizes in uint8 with its own filter support; the batch path resizes in float.
    assert (ours - expected).abs().mean() < 0.03


def test_labels_that_are_not_emotions_get_a_new_head_or_an_error(make_tiny_vit):
    generic = make_tiny_vit([f"LABEL_{i}" for i in range(7)], name="generic")
    ferplus = make_tiny_vit(["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                             "contempt"], name="ferplus")
    model = _hf_vit(model=str(ferplus))  # 8 outputs in its own order: a fresh 7-class head
    assert model(torch.randn(2, 1, 48, 48)).shape == (2, 7)
    assert model.model.config.id2label == dict(enumerate(CLASSES))
    with pytest.raises(ConfigError, match="not the seven emotions"):
        _hf_vit(model=str(generic), head="keep")
    with pytest.raises(ConfigError, match="head must be one of"):
        _hf_vit(model=str(generic), head="sideways")


def test_trains_one_step_evaluates_and_reloads_from_the_run(tiny_vit_dir, synthetic_dataset, tmp_path):
    config = ExperimentConfig.from_dict({
        "data": {"path": "unused"}, "device": "cpu",
        "model": {"backbone": "hf_vit", "options": {"model": str(tiny_vit_dir)}},
        "train": {"epochs": 1, "max_steps": 1, "batch_size": 8, "lr": 1e-3},
    })
    trainer = Trainer(config, dataset=synthetic_dataset, run_root=tmp_path)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    result = trainer.fit()
    assert result.steps == 1 and 0.0 <= result.report["accuracy"] <= 1.0
    after = trainer.eval_model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)

    # Rebuilt from the run folder: the config only (pretrained = false), then the trained weights.
    model, wcfg = load_trained_model(trainer.run.path)
    assert wcfg["backbone"] == "hf_vit"
    x = to_model_input(synthetic_dataset.images[:4])
    with torch.no_grad():
        assert torch.allclose(model(x), trainer.eval_model(x), atol=1e-6)


def test_a_hub_id_that_cannot_be_loaded_is_a_prompt_clear_error():
    start = time.monotonic()
    with pytest.raises(ConfigError) as info:
        _hf_vit(model="fer-toolkit-tests/no-such-model-anywhere")
    # No network here: "could not be reached"; with network: "has no model of that name".
    assert "no-such-model-anywhere" in str(info.value)
    assert "could not be reached" in str(info.value) or "no model of that name" in str(info.value)
    assert time.monotonic() - start < 30  # transformers' own retries take ~30 s; the probe is one try


def test_missing_option_and_a_file_instead_of_a_directory(tmp_path):
    with pytest.raises(ConfigError, match="needs the option model"):
        _hf_vit()
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"x")
    with pytest.raises(ConfigError, match="is a file"):
        _hf_vit(model=str(weights))
