"""`fercli serve`: one-line errors (no extra, no token beyond loopback), and a real server on a port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner

from fer_cli.main import cli
from fer_cli.serve._settings import is_loopback

_BLOCKED = """
import sys
for name in ("starlette", "uvicorn"):
    sys.modules[name] = None
import importlib.util
real = importlib.util.find_spec
importlib.util.find_spec = lambda n, *a: None if n in ("starlette", "uvicorn") else real(n, *a)
from fer_cli.main import main
main(["serve"])
"""


def test_without_the_extra_it_is_one_line_naming_it():
    env = {**os.environ, "FER_LOAD_PLUGINS": "fer_models,fer_temporal"}
    proc = subprocess.run([sys.executable, "-c", _BLOCKED], capture_output=True, text=True, env=env,
                          timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: fercli serve needs starlette, uvicorn") and \
        "pip install 'fer-cli[serve]'" in lines[0]


def test_a_public_address_needs_a_token(monkeypatch):
    monkeypatch.delenv("FER_SERVE_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "needs" not in result.output
    assert "give a token (--token or FER_SERVE_TOKEN)" in result.output
    result = CliRunner().invoke(cli, ["serve", "--detector", "nope"])
    assert result.exit_code != 0 and result.output.count("Error") == 1


@pytest.mark.parametrize("host,loop", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                       ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.4", False),
                                       ("example.org", False), ("::", False)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fercli_serve_answers_on_its_port_and_logs_one_line_per_request(tmp_path, media):
    port = free_port()
    env = {**os.environ, "FER_LOAD_PLUGINS": "fer_models,fer_temporal", "FER_SERVE_TOKEN": "tok"}
    proc = subprocess.Popen([sys.executable, "-m", "fer_cli", "serve", "--port", str(port), "--threads", "1",
                             "--workdir", str(tmp_path / "w")], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = json.load(r)
                assert health["status"] == "ok" and health["torch_loaded"] is False  # ONNX only
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models",
                                     headers={"Authorization": "Bearer tok"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.load(r)["loaded"]["backend"] == "onnx"
        photo = urllib.request.Request(f"http://127.0.0.1:{port}/v1/faces?token=tok", method="POST",
                                       data=(media / "single_face.jpg").read_bytes())
        with urllib.request.urlopen(photo, timeout=30) as r:
            assert len(json.load(r)["faces"]) == 1
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert json.load(r)["torch_loaded"] is False  # a whole analysis without torch
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "fercli serve: model default (onnx)" in err and "(token required)" in err
    assert sum(" GET /healthz 200 " in line for line in err.splitlines()) == 2, err
    assert sum(" POST /v1/faces 200 " in line for line in err.splitlines()) == 1, err
    assert "token=tok" not in err  # the query string is never logged
    assert sum(" GET /v1/models 200 " in line for line in err.splitlines()) == 1, err
    assert "Traceback" not in err


def test_a_port_in_use_is_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: cannot listen on 127.0.0.1:{port}: "), lines
