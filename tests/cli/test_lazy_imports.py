"""Lazy imports: help, ``plugins``, ``data report`` and importing the packages load no torch.

Each command runs in a fresh interpreter (``sys.executable``, as the ``fercli`` entry point would)
that prints, at exit, which heavy libraries ended up in ``sys.modules``. The registries hold
:func:`fer_core.lazy` stand-ins: their names, descriptions and signatures must be those of the
real factories, so that ``fercli plugins`` and the config checks say what they said before.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import click
import pytest

from fer_core import LazyFactory, PluginError, lazy, plugins
from fer_core.config import ExperimentConfig
from fer_core.config_validation import validate_config
from fer_core.errors import ConfigError

#: libraries no light command may import (numpy, PIL and pydantic only where the command needs them)
HEAVY = ("torch", "torchvision", "timm", "transformers", "onnx", "onnxruntime", "safetensors",
         "matplotlib", "sklearn", "scipy", "av", "cv2", "starlette", "uvicorn", "multipart", "websockets")
#: the toolkit's own plugins (and the example, when it is installed), not whatever else is installed
TOOLKIT_PLUGINS = "fer_models,fer_temporal,fer_tensorboard,fer_plugin_example"

_RUN = """
import json, sys
heavy = set(sys.argv[1].split(","))
code = 0
try:
    if sys.argv[2] == "-c":
        exec(sys.argv[3])
    else:
        from fer_cli.main import main
        main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
print("\\n" + json.dumps({"code": code, "heavy": sorted(
    {m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy})}))
"""


def _run(*args: str, env_extra: dict[str, str] | None = None) -> tuple[str, dict]:
    """Run ``fercli ARGS`` (or ``-c CODE``) in a fresh interpreter: its output and what it imported."""
    import os

    env = {**os.environ, "FER_LOAD_PLUGINS": TOOLKIT_PLUGINS, **(env_extra or {})}
    out = subprocess.run([sys.executable, "-c", _RUN, ",".join(HEAVY), *args], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    text, _, last = out.stdout.rstrip("\n").rpartition("\n")
    return text + out.stderr, json.loads(last)


def _command_paths() -> list[list[str]]:
    """Every command and subcommand of ``fercli``, plugin commands included, from the click group."""
    from fer_cli.main import _add_plugin_commands, cli

    _add_plugin_commands()
    paths: list[list[str]] = []

    def walk(command: click.Command, path: list[str]) -> None:
        paths.append(path)
        if isinstance(command, click.Group):
            for name, sub in sorted(command.commands.items()):
                walk(sub, [*path, name])

    walk(cli, [])
    return paths


COMMANDS = _command_paths()


def test_the_command_list_is_the_whole_group():
    names = {tuple(p) for p in COMMANDS}
    for expected in (("analyze",), ("data", "report"), ("plugins",), ("predict",), ("runs", "list"),
                     ("train",)):
        assert expected in names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "fercli")
def test_help_imports_no_heavy_library(path):
    output, seen = _run(*path, "--help")
    assert seen == {"code": 0, "heavy": []}, output
    assert "Usage: fercli" in output


def test_plugins_lists_every_registered_name_without_torch():
    output, seen = _run("plugins")
    assert seen["heavy"] == [] and seen["code"] == 0, output
    for name in ("small_cnn", "hf_vit", "adaptive", "focal", "haar", "full_frame"):
        assert name in output
    output, seen = _run("plugins", "--json")
    assert seen["heavy"] == []
    infos = {i["name"]: i for i in json.loads(output[: output.rindex("]") + 1])}
    assert "small_cnn" in infos["fer_models"]["registered"]["backbone"]


def test_data_report_imports_no_torch(tmp_path):
    rows = [(k % 7, " ".join(str((k * 31 + i) % 256) for i in range(48 * 48)), usage)
            for k, usage in enumerate(["Training"] * 7 + ["PublicTest"] * 2 + ["PrivateTest"] * 2)]
    csv = tmp_path / "tiny.csv"
    csv.write_text("emotion,pixels,Usage\n" + "".join(f"{e},{p},{u}\n" for e, p, u in rows))
    for _ in range(2):  # the decode, then the cached copy
        output, seen = _run("data", "report", str(csv))
        assert seen == {"code": 0, "heavy": []}, output
        assert "Training (train)" in output and "PublicTest (select)" in output


@pytest.mark.parametrize("module", ["fer_core", "fer_cli.main", "fer_models", "fer_temporal",
                                    "fer_models.plugin", "fer_temporal.plugin",
                                    "fer_core.contrib.tensorboard", "fer_core.data", "fer_core.config",
                                    "fer_core.config_validation"])
def test_import_is_light(module):
    _, seen = _run("-c", f"import {module}")
    assert seen["heavy"] == []


def test_loading_the_plugins_and_reading_the_registries_is_light():
    code = ("from fer_core import plugins\n"
            "ps = plugins.PluginSet.load()\n"
            "ps.info()\n"
            "assert {'small_cnn', 'lean_cnn'} <= set(ps.backbones()), ps.backbones()\n"
            "assert 'haar' in ps.face_detectors() and 'focal' in ps.losses()\n")
    output, seen = _run("-c", code)
    assert seen == {"code": 0, "heavy": []}, output


def test_a_real_command_still_works(tmp_path):
    from PIL import Image

    face = tmp_path / "face.png"
    Image.new("L", (48, 48), 128).save(face)
    output, seen = _run("predict", str(face), "--model", "fast")
    assert seen["code"] == 0, output
    assert "| file | label |" in output and str(face) in output
    assert "torch" in seen["heavy"]  # (the model does need it: the check above is not vacuous)


# --- the lazy factories --------------------------------------------------------------------------


def test_lazy_factory_behaves_as_its_target():
    f = lazy("fer_models.backbones.small_cnn:small_cnn")
    from fer_models.backbones.small_cnn import small_cnn

    assert inspect.signature(f) == inspect.signature(small_cnn)
    assert f.resolve() is small_cnn and f.resolved
    model = f(num_classes=7, in_chans=1)
    assert type(model).__name__ == "SmallCNN"
    assert lazy("fer_models.backbones.khaireddin_vgg:khaireddin_vgg").default_crop == 40


def test_lazy_factory_that_cannot_import_is_one_plugin_error():
    f = lazy("no_such_module_here:factory")
    assert not f.resolved
    with pytest.raises(PluginError, match=r"cannot import the factory no_such_module_here:factory: "
                                          r"ModuleNotFoundError"):
        f()
    with pytest.raises(ValueError, match="module:attribute"):
        lazy("no_colon")


def test_config_checks_still_name_the_real_options():
    cfg = ExperimentConfig.from_dict({"data": {"path": "x.csv"},
                                      "model": {"backbone": "small_cnn", "options": {"widthz": [8]}},
                                      "train": {"strategy": "adaptive", "strategy_options": {"kk": 1}}})
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, plugins.PluginSet.load(allow=["fer_models"]))
    text = str(err.value)
    assert "unknown option 'widthz'; allowed options: widths, dropout, stem_stride" in text
    assert "unknown option 'kk'; allowed options: k, boost" in text


def _first_doc_line(obj: object) -> str:
    return (obj.__doc__ or "").strip().splitlines()[0]


def test_fer_models_registrations_match_the_tables_and_docstrings():
    from fer_models import plugin
    from fer_models.backbones import BACKBONES
    from fer_models.losses import LOSSES
    from fer_models.strategies import STRATEGIES

    ps = plugins.PluginSet.load(allow=["fer_models"])
    for kind, registered, table in (("backbone", plugin.BACKBONES, BACKBONES),
                                    ("sampler_strategy", plugin.STRATEGIES, STRATEGIES),
                                    ("loss", plugin.LOSSES, LOSSES)):
        assert list(registered) == list(table), kind
        for name, factory in table.items():
            reg = ps.get(kind, name)
            assert isinstance(reg.factory, LazyFactory) and reg.factory.resolve() is factory, name
            assert reg.description == _first_doc_line(factory), name


def test_fer_temporal_registrations_match_the_detectors():
    from fer_temporal import plugin
    from fer_temporal._detectors import DETECTORS

    ps = plugins.PluginSet.load(allow=["fer_temporal"])
    assert set(plugin.DETECTORS) == set(DETECTORS)
    for name, factory in DETECTORS.items():
        reg = ps.get("face_detector", name)
        assert reg.factory.resolve() is factory and reg.description == _first_doc_line(factory)


def test_fer_temporal_lazy_names_are_its_public_names():
    import fer_temporal

    for name in fer_temporal.__all__:
        assert getattr(fer_temporal, name) is not None, name
    with pytest.raises(AttributeError):
        fer_temporal.no_such_name  # noqa: B018


def test_fer_core_data_lazy_names_resolve():
    import fer_core.data

    for name in fer_core.data.__all__:
        assert getattr(fer_core.data, name) is not None, name
