"""Issue 19: images and videos read upright and in any pixel format, large frames detected on a
small copy.

* EXIF orientation (3, 6, 8) is applied by the one image reader (``fer_core.read_rgb``), so the
  analyze sources, the folder reader and ``prepare_faces`` see what every viewer shows;
* a corrupt EXIF block is a warning, the stored pixels are used;
* every mode (gray, palette, alpha, CMYK, 16-bit) becomes 8-bit RGB, 16-bit scaled, not clipped;
* a phone video's rotation (the display matrix of its track header) is applied to each frame:
  the test writes an mp4 with PyAV and sets the matrix in its ``tkhd`` box, as a phone does;
* frames larger than 2048 pixels go to the detector shrunk, boxes scaled back.
"""

from __future__ import annotations

import math
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_core import DataError, ImageWarning, read_rgb
from fer_core.data import load_image
from fer_temporal import open_source
from fer_temporal._downscale import DownscaledDetector, for_large_frames
from fer_temporal._sources import upright_frame

#: EXIF orientation -> the transpose that makes the stored pixels from the upright picture
#: (a viewer applies the inverse): 6 = stored turned 90 degrees counter-clockwise, shown clockwise
STORED = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def asymmetric(h: int = 40, w: int = 64) -> np.ndarray:
    """A picture no rotation or flip maps onto itself: a red bar on top, a green block left."""
    a = np.full((h, w, 3), 90, np.uint8)
    a[: h // 5] = (230, 30, 30)
    a[h // 5:, : w // 4] = (30, 200, 30)
    a[h // 2:, w // 2:] = (20, 20, 220)
    return a


def exif_with(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def stored_sideways(upright: np.ndarray, orientation: int, path: Path, **save: object) -> Path:
    """``upright`` saved turned as a camera stores it, tagged so that viewers turn it back."""
    Image.fromarray(upright).transpose(STORED[orientation]).save(path, exif=exif_with(orientation), **save)
    return path


@pytest.mark.parametrize("orientation", [3, 6, 8])
@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_exif_orientation_gives_the_upright_picture_everywhere(tmp_path, orientation, suffix):
    up = asymmetric()
    save = {"quality": 95} if suffix == ".jpg" else {}
    path = stored_sideways(up, orientation, tmp_path / f"photo{suffix}", **save)
    assert Image.open(path).size != up.shape[1::-1] or orientation == 3  # stored sideways
    tolerance = 0 if suffix == ".png" else 3  # JPEG: colors bleed at the sharp edges
    got = read_rgb(path)
    assert got.shape == up.shape and got.dtype == np.uint8
    assert np.abs(got.astype(int) - up).mean() <= tolerance
    assert np.abs(got.astype(int) - up[::-1, ::-1]).mean() > 30  # upside down would be far off
    [frame] = list(open_source(path))  # fercli analyze's source
    assert np.array_equal(frame.image, got)
    [frame] = list(open_source(tmp_path))  # a folder of frames
    assert np.array_equal(frame.image, got)
    gray = load_image(path, 48, resize=True)  # fercli predict and the data layer's folder form
    expected = np.asarray(Image.fromarray(up).convert("L").resize((48, 48), Image.Resampling.BILINEAR))
    assert np.abs(gray.astype(int) - expected).mean() <= tolerance + 0.5


def test_prepare_faces_takes_a_pil_photo_upright(tmp_path):
    from fer_models.inference import prepare_faces

    up = asymmetric(48, 48)
    path = stored_sideways(up, 6, tmp_path / "face.png")
    with Image.open(path) as img:
        sideways = prepare_faces(img)
    assert np.array_equal(sideways.numpy(), prepare_faces(Image.fromarray(up)).numpy())


@pytest.mark.parametrize("blob", [
    b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xf0" + b"\x00" * 20,  # IFD offset past the end
    b"Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\x05\x00\x12\x01\x03\x00",  # IFD cut in the middle
    b"Exif\x00\x00" + b"\xde\xad\xbe\xef" * 10,  # not TIFF at all
])
def test_corrupt_exif_is_a_warning_and_the_stored_pixels(tmp_path, blob):
    up = asymmetric()
    path = tmp_path / "corrupt.png"
    Image.fromarray(up).save(path, exif=blob)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = read_rgb(path)
    assert np.array_equal(got, up)
    assert all(issubclass(w.category, ImageWarning) and str(path) in str(w.message) for w in caught)


def test_out_of_range_orientation_is_ignored(tmp_path):
    up = asymmetric()
    path = tmp_path / "nine.png"
    Image.fromarray(up).save(path, exif=exif_with(9))
    assert np.array_equal(read_rgb(path), up)


def _png_16bit_gray(path: Path) -> np.ndarray:
    values = (np.arange(40 * 64).reshape(40, 64) * 25).astype(np.uint16)  # 0 .. 63975
    Image.fromarray(values).save(path)
    return values


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "1", "I;16"])
def test_every_mode_becomes_8bit_rgb(tmp_path, mode):
    up = asymmetric()
    rgb = Image.fromarray(up)
    if mode == "I;16":
        values = _png_16bit_gray(tmp_path / "x.png")
        got = read_rgb(tmp_path / "x.png")
        assert Image.open(tmp_path / "x.png").mode == "I;16"
        expected = (values.astype(int) + 128) // 257  # scaled: 63975 -> 249, not clipped to 255
        assert got.shape == (40, 64, 3) and np.abs(got[..., 0].astype(int) - expected).max() <= 1
        assert got.max() == 249 and len(np.unique(got)) > 200
        return
    img = rgb.convert("RGBA" if mode == "LA" else "RGB").convert(mode)
    path = tmp_path / ("x.jpg" if mode == "CMYK" else "x.png")
    img.save(path)
    got = read_rgb(path)
    assert got.dtype == np.uint8 and got.shape == (40, 64, 3)
    reference = np.asarray(img.convert("RGB")).astype(int)
    assert np.abs(got.astype(int) - reference).mean() < 3


def test_transparent_pixels_are_white_not_black(tmp_path):
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[:, :5] = (200, 0, 0, 255)  # left half opaque red, right half fully transparent (black)
    Image.fromarray(rgba).save(tmp_path / "t.png")
    got = read_rgb(tmp_path / "t.png")
    assert (got[:, :5] == (200, 0, 0)).all() and (got[:, 5:] == 255).all()


def test_animated_gif_first_frame_alone_every_frame(tmp_path):
    frames = [Image.fromarray(np.full((16, 16, 3), v, np.uint8)) for v in (0, 120, 250)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert read_rgb(tmp_path / "anim.gif")[0, 0, 0] < 10  # one image: its first frame
    alone = [f.image[0, 0, 0] for f in open_source(tmp_path / "anim.gif")]
    assert len(alone) == 3 and alone[0] < 10 < alone[1] < alone[2]  # alone: every frame, RGB
    assert all(f.image.shape == (16, 16, 3) for f in open_source(tmp_path / "anim.gif"))
    [in_folder] = list(open_source(tmp_path))
    assert in_folder.image[0, 0, 0] < 10


def test_too_many_pixels_is_refused_before_decoding(tmp_path):
    """A 8001x8000 PNG header on a tiny file: refused from its header, nothing decoded."""
    import zlib

    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "small.png")
    data = bytearray((tmp_path / "small.png").read_bytes())
    start = data.index(b"IHDR")
    data[start + 4:start + 12] = struct.pack(">II", 8001, 8000)
    data[start + 17:start + 21] = struct.pack(">I", zlib.crc32(bytes(data[start:start + 17])))
    (tmp_path / "bomb.png").write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"bomb.png: image is 8001x8000, larger than the 64,000,000"):
        read_rgb(tmp_path / "bomb.png")


# -- phone videos -------------------------------------------------------------------------------


def _mp4(path: Path, picture: np.ndarray, n: int = 3) -> Path:
    import av

    h, w = picture.shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10, options={"preset": "ultrafast", "crf": "10"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for _ in range(n):
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _set_display_matrix(path: Path, degrees_clockwise: int) -> None:
    """Write the rotation into the video track's ``tkhd`` matrix, where phones put it (PyAV has
    no API to write it)."""
    data = bytearray(path.read_bytes())
    at = data.index(b"tkhd")
    version = data[at + 4]
    matrix = at + 8 + (32 if version == 1 else 20) + 16  # after the times, ids, duration, reserved
    assert struct.unpack(">9i", data[matrix:matrix + 36])[0] == 1 << 16  # the identity was there
    a = math.radians(degrees_clockwise)
    c, s = round(math.cos(a)), round(math.sin(a))
    data[matrix:matrix + 36] = struct.pack(">9i", c << 16, s << 16, 0, -s << 16, c << 16, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("clockwise", [90, 180, 270])
def test_phone_video_rotation_is_applied(tmp_path, clockwise):
    import av

    up = asymmetric(48, 64)
    # what the phone stores: the upright picture turned back (counter-clockwise by `clockwise`)
    stored = np.ascontiguousarray(np.rot90(up, clockwise // 90))
    path = _mp4(tmp_path / "phone.mp4", stored)
    _set_display_matrix(path, clockwise)
    with av.open(str(path)) as container:
        first = next(container.decode(video=0))
        assert (first.rotation + clockwise) % 360 == 0  # counter-clockwise, in [-180, 180]
    frames = list(open_source(path))
    assert len(frames) == 3
    for frame in frames:
        assert frame.image.shape == up.shape
        assert np.abs(frame.image.astype(int) - up).mean() < 8  # H.264 at crf 10, yuv420p


def test_upright_frame_turns_by_the_display_matrix_angle():
    a = asymmetric()
    assert upright_frame(a, 0) is a
    assert np.array_equal(upright_frame(a, -90), np.rot90(a, -1))  # -90: turn clockwise
    assert np.array_equal(upright_frame(a, 90), np.rot90(a, 1))
    assert np.array_equal(upright_frame(a, 180), a[::-1, ::-1])


# -- large frames ---------------------------------------------------------------------------------


class _Recorder:
    name = "recorder"

    def __init__(self, box):
        self.shapes, self.box = [], box

    def __call__(self, frame):
        self.shapes.append(frame.shape)
        return [self.box]


def test_large_frames_are_detected_on_a_small_copy_and_boxes_scaled_back():
    inner = _Recorder((100.0, 50.0, 300.0, 250.0, 0.9, 150.0, 100.0))  # a box, a score, a landmark
    detect = DownscaledDetector(inner, max_side=1000)
    frame = np.zeros((2000, 4000, 3), np.uint8)
    [box] = detect(frame)
    assert inner.shapes == [(500, 1000, 3)]
    assert box == pytest.approx((400.0, 200.0, 1200.0, 1000.0, 0.9, 600.0, 400.0))
    small = np.zeros((600, 800, 3), np.uint8)
    assert detect(small) == [inner.box] and inner.shapes[-1] == (600, 800, 3)  # untouched
    assert detect.name == "recorder"


def test_full_frame_detector_is_not_wrapped():
    from fer_temporal import FullFrameDetector

    full = FullFrameDetector()
    assert for_large_frames(full) is full
    assert isinstance(for_large_frames(_Recorder((0, 0, 1, 1, 1))), DownscaledDetector)
