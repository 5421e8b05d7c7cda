"""Load on `fercli serve`: concurrent image requests to POST /v1/faces and live WebSocket streams.

Loopback only, bounded in count and time, stops by itself. It starts `fercli serve` on a free port
of 127.0.0.1 (a subprocess: its RSS and CPU are measured with psutil), then at the same time:

* ``--clients`` threads each POST ``--requests`` images (a real photo, ``--image``, default
  ../shared/media/single_face.jpg) to /v1/faces one after the other;
* ``--streams`` WebSocket clients each send a downscaled real clip's frames (JPEG, 320 px wide,
  from ``--clip``) at ``--stream-fps`` for ``--seconds``, without waiting for answers (so the
  server must drop frames when it is behind, and says how many).

Reported: requests/s, p50/p99 latency, errors (non-200, exceptions) of the image requests; per
stream the frames sent, answered and dropped, the p50 answer latency; the server's RSS at start
(after loading the model) and at the end, its peak, and its CPU time over the wall time.

    python benchmarks/serve_load.py [--clients 8] [--requests 200] [--streams 4] [--seconds 60]
        [--stream-fps 15] [--threads 2] [--out section.md]

The 10-minute soak (RSS sampled every 10 s, must stay flat):

    python benchmarks/serve_load.py --clients 4 --requests 100000 --streams 2 --seconds 600 --max-seconds 600
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_model

REPO = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("FER_SHARED_DIR", REPO.parent / "shared")) / "media"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _frames(clip: Path, width: int = 320, limit: int = 150) -> list[bytes]:
    """JPEG frames of a real clip, scaled to ``width``."""
    import av

    out = []
    with av.open(str(clip)) as container:
        for frame in container.decode(container.streams.video[0]):
            img = frame.to_image()
            img = img.resize((width, round(img.height * width / img.width)))
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=75)
            out.append(buf.getvalue())
            if len(out) == limit:
                break
    return out


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=200, help="image requests per client")
    ap.add_argument("--streams", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each live stream")
    ap.add_argument("--stream-fps", type=float, default=15.0)
    ap.add_argument("--max-seconds", type=float, default=900.0, help="hard stop of the whole run")
    ap.add_argument("--threads", type=int, default=None, help="--threads of the server")
    ap.add_argument("--concurrency", type=int, default=2, help="--concurrency of the server")
    ap.add_argument("--image", type=Path, default=MEDIA / "single_face.jpg")
    ap.add_argument("--clip", type=Path, default=MEDIA / "single_face.mp4")
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown section here")
    args = ap.parse_args()

    import httpx
    import psutil
    from websockets.sync.client import connect

    image = args.image.read_bytes()
    frames = _frames(args.clip)
    port = _free_port()
    cmd = [sys.executable, "-m", "fer_cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning", "--concurrency", str(args.concurrency)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    server = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start: " + (server.stderr.read() if server.stderr else ""))
        time.sleep(0.2)
    proc = psutil.Process(server.pid)
    rss_start = proc.memory_info().rss
    cpu_start = sum(proc.cpu_times()[:2])
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    hard_stop = time.monotonic() + args.max_seconds
    load_before = os.getloadavg()

    def sample() -> None:
        t0 = time.monotonic()
        while not stop.wait(2.0):
            samples.append((time.monotonic() - t0, proc.memory_info().rss))

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            for _ in range(args.requests):
                if time.monotonic() > hard_stop:
                    return
                t = time.perf_counter()
                try:
                    r = http.post("/v1/faces", content=image)
                    ok = r.status_code == 200 and len(r.json()["faces"]) == 1
                    problem = None if ok else f"status {r.status_code}: {r.text[:100]}"
                except Exception as exc:  # counted, not raised: the run goes on
                    problem = f"{type(exc).__name__}: {exc}"
                with lock:
                    latencies.append(time.perf_counter() - t)
                    if problem:
                        errors.append(problem)

    streams: list[dict] = []

    def stream() -> None:
        st = {"sent": 0, "answered": 0, "dropped": 0, "errors": 0, "lat": []}
        streams.append(st)
        sent_at: dict[int, float] = {}
        try:
            with connect(f"ws://127.0.0.1:{port}/v1/live", max_size=2**22) as ws:
                done = threading.Event()

                def reader() -> None:
                    try:
                        for message in ws:
                            reply = json.loads(message)
                            if "error" in reply:
                                st["errors"] += 1
                                continue
                            st["answered"] += 1
                            st["dropped"] = reply["dropped"]
                            n = reply["received"] - 1
                            if n in sent_at:
                                st["lat"].append(time.perf_counter() - sent_at[n])
                    except Exception:
                        pass
                    done.set()

                threading.Thread(target=reader, daemon=True).start()
                t0 = time.monotonic()
                end = min(t0 + args.seconds, hard_stop)
                i = 0
                while time.monotonic() < end:
                    sent_at[i] = time.perf_counter()
                    ws.send(frames[i % len(frames)])
                    st["sent"] += 1
                    i += 1
                    time.sleep(max(0.0, t0 + i / args.stream_fps - time.monotonic()))
                time.sleep(1.0)  # the last answers
                ws.close()
                done.wait(5)
        except Exception as exc:
            st["errors"] += 1
            st["exception"] = f"{type(exc).__name__}: {exc}"

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    wall0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    threads += [threading.Thread(target=stream) for _ in range(args.streams)]
    for t in threads:
        t.start()
    images_end = None
    for t in threads[:args.clients]:
        t.join()
    images_end = time.monotonic()
    for t in threads[args.clients:]:
        t.join()
    wall = time.monotonic() - wall0
    stop.set()
    rss_end = proc.memory_info().rss
    cpu = sum(proc.cpu_times()[:2]) - cpu_start
    server.terminate()
    server.wait(timeout=30)

    mb = 1024 * 1024
    n = len(latencies)
    image_wall = images_end - wall0
    peak = max([rss_end, *[r for _, r in samples]])
    lines = [
        f"- settings: {args.clients} clients x {args.requests} image requests (POST /v1/faces, "
        f"{args.image.name}, {len(image)} B), {args.streams} live streams x {args.seconds:g} s at "
        f"{args.stream_fps:g} fps ({args.clip.name}, 320 px JPEG); server --concurrency {args.concurrency}"
        f"{f', --threads {args.threads}' if args.threads else ''}",
        f"- machine: {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; load average "
        f"before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} (shared with other jobs)",
        f"- images: {n} requests in {image_wall:.1f} s = **{n / image_wall:.1f} requests/s**, latency p50 "
        f"{_pct(latencies, .5) * 1000:.0f} ms, p99 {_pct(latencies, .99) * 1000:.0f} ms, "
        f"**errors {len(errors)}**" + (f" (first: {errors[0]})" if errors else ""),
    ]
    for i, st in enumerate(streams):
        lines.append(f"- stream {i}: {st['sent']} frames sent, {st['answered']} answered, {st['dropped']} "
                     f"dropped by the server, {st['errors']} errors, answer p50 "
                     f"{_pct(st['lat'], .5) * 1000:.0f} ms"
                     + (f" ({st['exception']})" if "exception" in st else ""))
    lines.append(f"- server RSS: {rss_start / mb:.0f} MB at start (model loaded), "
                 f"{rss_end / mb:.0f} MB at the end, peak sampled {peak / mb:.0f} MB; "
                 f"CPU {cpu:.1f} s over {wall:.1f} s wall "
                 f"({100 * cpu / wall:.0f}% of one core)")
    if len(samples) >= 6:
        k = len(samples) // 5
        first = statistics.mean(r for _, r in samples[:k]) / mb
        last = statistics.mean(r for _, r in samples[-k:]) / mb
        lines.append(f"- RSS first fifth {first:.0f} MB, last fifth {last:.0f} MB ({len(samples)} samples)")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
