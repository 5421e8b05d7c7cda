"""The page in a real browser: Debian's chromium, headless, driven by Playwright, with a fake camera
playing a real clip (a .y4m made here from ../shared/media/single_face.mp4). The page must draw
face boxes and its timeline must gain points; the screenshot is kept in test-artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
#: root in a container: no sandbox; a small /dev/shm must not crash the renderer
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]


def _browser() -> str:
    pytest.importorskip("playwright", reason="needs playwright (requirements-test.txt)")
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("needs the chromium browser: apt-get install -y chromium (Debian's package)")
    return path


def make_y4m(clip: Path, out: Path, frames: int = 45, width: int = 320) -> Path:
    """The first ``frames`` frames of ``clip``, scaled to ``width`` (even sizes), as a YUV4MPEG2 file."""
    import av

    with av.open(str(clip)) as container, open(out, "wb") as fh:
        stream = container.streams.video[0]
        height = None
        for i, frame in enumerate(container.decode(stream)):
            if i == frames:
                break
            if height is None:
                height = round(frame.height * width / frame.width / 2) * 2
                fh.write(f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode())
            yuv = frame.reformat(width=width, height=height, format="yuv420p").to_ndarray()
            fh.write(b"FRAME\n" + yuv.tobytes())
    return out


def test_the_page_draws_boxes_and_a_timeline_from_a_fake_camera(server, media, tmp_path):
    chromium = _browser()
    from playwright.sync_api import sync_playwright

    y4m = make_y4m(media / "single_face.mp4", tmp_path / "camera.y4m")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}", *CHROMIUM_ARGS])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone's width
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server)
            page.click("#start")
            page.wait_for_function(
                "Number(document.body.dataset.boxesDrawn) >= 1"
                " && Number(document.body.dataset.timelinePoints) >= 5",
                timeout=60_000)
            data = page.evaluate("({...document.body.dataset})")
            timelines = page.locator("#timelines canvas").count()
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "serve-live-page.png"
            page.screenshot(path=str(shot), full_page=True)
            page.click("#stop")
        finally:
            browser.close()
    assert not errors, errors
    assert int(data["framesSent"]) >= int(data["replies"]) >= 5, data
    assert int(data["boxesDrawn"]) >= 1 and int(data["timelinePoints"]) >= 5, data
    assert timelines >= 1, data
    assert shot.stat().st_size > 10_000, shot


def test_the_page_uploads_a_photo_and_a_video(server, media):
    chromium = _browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server)
            page.set_input_files("#file", str(media / "single_face.jpg"))
            page.click("#upload-form button[type=submit]")
            page.wait_for_function("document.querySelectorAll('#faces-table tr').length >= 2", timeout=30_000)
            photo = page.evaluate("[document.getElementById('photo').width, "
                                  "document.querySelector('#faces-table tr:nth-child(2) td:nth-child(2)')"
                                  ".textContent]")
            page.set_input_files("#file", str(media / "single_face.mp4"))
            page.click("#upload-form button[type=submit]")
            page.wait_for_function("document.querySelectorAll('#downloads a').length === 4 && "
                                   "document.getElementById('plot').naturalWidth > 0", timeout=120_000)
            status = page.text_content("#upload-status")
            links = page.eval_on_selector_all("#downloads a", "as => as.map(a => a.getAttribute('href'))")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "serve-upload-page.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors
    assert photo[0] > 0 and photo[1] == "happy"
    assert status.startswith("done: 72 frames") and "1 track" in status
    assert [link.rsplit("/", 1)[1] for link in links] == ["csv", "json", "png", "video"]
