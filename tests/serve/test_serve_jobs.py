"""Video jobs: upload -> job id -> progress -> the CSV, JSON, PNG and annotated MP4 of fercli analyze;
a bounded queue, cancel, cleanup after the TTL, and every error as 4xx JSON."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from pathlib import Path

import pytest

from fer_cli.serve._errors import ApiError
from fer_cli.serve._jobs import JobManager


def _wait(client, job_id, until=("done", "failed", "cancelled"), timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in until:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def _until(condition, timeout=5.0, poll=0.02):
    """Poll ``condition()`` until it is true or ``timeout`` seconds pass (the caller asserts after)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(poll)


def test_a_video_job_writes_what_fercli_analyze_writes(client, media, tmp_path):
    from click.testing import CliRunner

    from fer_cli.main import cli

    clip = media / "single_face.mp4"
    resp = client.post("/v1/videos", files={"file": ("single_face.mp4", clip.read_bytes(), "video/mp4")})
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert resp.headers["location"] == f"/v1/jobs/{job['id']}" and job["status"] in ("queued", "running")
    assert job["progress"]["total"] == 72
    done = _wait(client, job["id"])
    assert done["status"] == "done", done
    assert done["progress"] == {"frames": 72, "total": 72, "fraction": 1.0}
    assert set(done["files"]) == {"csv", "json", "png", "video"}
    header = done["result"]["header"]
    assert header["source"] == "single_face.mp4" and header["frames_processed"] == 72 and header["faces"] > 0

    out = tmp_path / "cli"
    result = CliRunner().invoke(cli, ["analyze", str(clip), "--out", str(out), "--no-progress", "--annotate"])
    assert result.exit_code == 0, result.output
    served = client.get(done["files"]["csv"])
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/csv")
    assert "single_face.csv" in served.headers["content-disposition"]
    ours = list(csv.DictReader(io.StringIO(served.text)))
    theirs = list(csv.DictReader((out / "single_face.csv").open()))
    assert len(ours) == len(theirs) == 72
    assert {r["source"] for r in ours} == {"single_face.mp4"}  # the client's name, not the server's path
    for a, b in zip(ours, theirs, strict=True):  # the same numbers, row for row
        assert {k: v for k, v in a.items() if k != "source"} == {k: v for k, v in b.items() if k != "source"}
    raw_json = client.get(done["files"]["json"]).text
    assert str(client.app.state.workdir) not in raw_json + served.text
    data = json.loads(raw_json)
    assert data["segments"] == json.loads((out / "single_face.json").read_text())["segments"]
    png = client.get(done["files"]["png"])
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    mp4 = client.get(done["files"]["video"])
    assert mp4.headers["content-type"] == "video/mp4" and mp4.content[4:8] == b"ftyp"
    # the job goes on its own way: deleting it removes its files
    folder = client.app.state.jobs.get(job["id"]).folder
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 200
    assert client.get(f"/v1/jobs/{job['id']}").status_code == 404 and not folder.exists()


def test_video_errors_are_4xx_json(make_client, tiny_video, tmp_path, image_bytes):
    client = make_client(max_video_bytes=2000)
    video = tiny_video(tmp_path / "v.mp4", frames=40, size=(160, 120)).read_bytes()
    assert len(video) > 2000
    resp = client.post("/v1/videos", content=video)
    assert resp.status_code == 413 and "larger than" in resp.json()["error"]
    resp = client.post("/v1/videos", content=image_bytes())
    assert resp.status_code == 415 and "POST /v1/faces" in resp.json()["error"]
    resp = client.post("/v1/videos", content=b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200)
    assert resp.status_code == 422 and "cannot" in resp.json()["error"], resp.text
    assert str(client.app.state.workdir) not in resp.json()["error"]
    assert list((client.app.state.workdir / "jobs").iterdir()) == []  # nothing kept of refused uploads


def test_unknown_jobs_and_files(client, tiny_video, tmp_path):
    assert client.get("/v1/jobs/nope").status_code == 404
    assert client.delete("/v1/jobs/nope").status_code == 404
    assert "error" in client.get("/v1/jobs/nope/files/csv").json()
    job = client.post("/v1/videos", content=tiny_video(tmp_path / "v.mp4").read_bytes()).json()
    done = _wait(client, job["id"])
    assert done["status"] == "done" and done["result"]["header"]["faces"] == 0
    resp = client.get(f"/v1/jobs/{job['id']}/files/exe")
    assert resp.status_code == 404 and "csv, json, png, video" in resp.json()["error"]


# -- the queue itself, with a runner that waits for the test ------------------------------------


class _Gate:
    def __init__(self):
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self, job):
        self.started.set()
        for i in range(1000):
            job.progress(i)
            if self.release.wait(0.01):
                break
        out = job.folder / "x.csv"
        out.write_text("a\n")
        return {"csv": out}, {"n": 1}


def _manager(tmp_path, runner, **kw):
    jobs = JobManager(tmp_path / "jobs", runner, **kw)
    jobs.start()
    return jobs


def _submit(jobs):
    job_id, folder = jobs.new_folder()
    (folder / "in.mp4").write_bytes(b"x")
    return jobs.submit(job_id, folder, folder / "in.mp4", "in.mp4", 10)


def test_the_queue_is_bounded_and_says_so(tmp_path):
    gate = _Gate()
    jobs = _manager(tmp_path, gate, workers=1, queue_size=1)
    try:
        first = _submit(jobs)
        assert gate.started.wait(5)
        _submit(jobs)  # waits in the queue
        with pytest.raises(ApiError) as err:
            _submit(jobs)
        assert err.value.status == 503 and "queue is full" in err.value.message
        assert err.value.headers["Retry-After"]
        gate.release.set()
        _until(lambda: jobs.counts()["done"] >= 2)
        assert jobs.counts()["done"] == 2 and jobs.get(first.id).outputs["csv"].is_file()
    finally:
        jobs.stop()


def test_cancel_stops_a_running_job_and_a_queued_one(tmp_path):
    gate = _Gate()
    jobs = _manager(tmp_path, gate, workers=1, queue_size=4)
    try:
        running = _submit(jobs)
        assert gate.started.wait(5)
        queued = _submit(jobs)
        assert jobs.cancel(queued.id).status == "cancelled"
        jobs.cancel(running.id)
        _until(lambda: jobs.get(running.id).status == "cancelled")
        assert jobs.get(running.id).status == "cancelled" and not running.folder.exists()
        assert not queued.folder.exists()
    finally:
        jobs.stop()


def test_ended_jobs_are_removed_after_the_ttl(tmp_path):
    gate = _Gate()
    gate.release.set()
    jobs = _manager(tmp_path, gate, ttl=0.3)
    try:
        job = _submit(jobs)
        _until(lambda: job.status == "done")
        assert job.status == "done" and job.folder.exists()
        assert jobs.sweep(now=job.ended + 0.1) == 0
        _until(lambda: job.id not in jobs.jobs, poll=0.05)  # the janitor thread
        assert job.id not in jobs.jobs and not Path(job.folder).exists()
    finally:
        jobs.stop()


def test_a_runner_bug_fails_the_job_without_a_traceback(tmp_path):
    def broken(job):
        raise RuntimeError("secret internals")

    jobs = _manager(tmp_path, broken)
    try:
        job = _submit(jobs)
        deadline = time.monotonic() + 5
        while job.status != "failed" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job.status == "failed" and "secret" not in (job.error or "") and "logged" in (job.error or "")
    finally:
        jobs.stop()


def test_a_job_goes_on_when_its_client_goes_away(server, media):
    """The client sends the video and hangs up without reading the answer: the job still runs."""
    import socket
    import urllib.request
    from urllib.parse import urlparse

    body = (media / "single_face.mp4").read_bytes()
    url = urlparse(server)
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(b"POST /v1/videos HTTP/1.1\r\nHost: x\r\nContent-Type: video/mp4\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        sock.shutdown(socket.SHUT_WR)  # gone, before any answer
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with urllib.request.urlopen(server + "healthz", timeout=5) as r:
            counts = json.load(r)["jobs"]
        if counts["done"] == 1:
            break
        assert counts["failed"] == 0 and counts["cancelled"] == 0, counts
        time.sleep(0.2)
    assert counts["done"] == 1, counts
