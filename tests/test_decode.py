"""Decoding untrusted input: every format, EXIF orientation, and every kind of bad input."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import LOCAL, encode
from PIL import Image

from regard import Regard
from regard.errors import ImageTooLargeError, InvalidImageError
from regard.vision.decode import ImageLimits, decode_image


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF"])
def test_formats_decode_to_rgb(astronaut: np.ndarray, fmt: str) -> None:
    image = decode_image(encode(astronaut, fmt))
    assert image.pixels.shape == astronaut.shape
    assert image.pixels.dtype == np.uint8
    assert image.info.format == fmt
    assert len(image.info.sha256) == 64


def test_path_and_array_sources(astronaut: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(encode(astronaut, "PNG"))
    assert np.array_equal(decode_image(path).pixels, astronaut)
    assert np.array_equal(decode_image(str(path)).pixels, astronaut)
    assert decode_image(astronaut).info.format == "ARRAY"
    assert decode_image(astronaut[:, :, 0]).pixels.shape == astronaut.shape
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    assert decode_image(rgba).pixels.shape == astronaut.shape


def test_exif_orientation_is_applied(astronaut: np.ndarray) -> None:
    wide = np.ascontiguousarray(astronaut[:256])  # 256 x 512
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = encode(wide, "JPEG", exif=exif.tobytes())
    assert decode_image(data).pixels.shape[:2] == (512, 256)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty"),
        (b"hello, this is not an image at all", "not a supported image"),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "not a supported image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "."),
    ],
)
def test_non_images_are_rejected(payload: bytes, message: str) -> None:
    with pytest.raises(InvalidImageError, match=message):
        decode_image(payload)


def test_truncated_jpeg_is_rejected(astronaut: np.ndarray) -> None:
    data = encode(astronaut, "JPEG")
    with pytest.raises(InvalidImageError, match="corrupt or truncated"):
        decode_image(data[: len(data) // 2])


def test_truncated_png_is_rejected(astronaut: np.ndarray) -> None:
    data = encode(astronaut, "PNG")
    with pytest.raises(InvalidImageError):
        decode_image(data[: len(data) // 3])


def test_corrupt_bytes_in_the_middle(astronaut: np.ndarray) -> None:
    data = bytearray(encode(astronaut, "PNG"))
    data[200:400] = b"\x00" * 200
    with pytest.raises(InvalidImageError):
        decode_image(bytes(data))


def test_byte_limit() -> None:
    with pytest.raises(ImageTooLargeError, match="bytes"):
        decode_image(b"\xff" * 2048, ImageLimits(max_bytes=1024))


def test_pixel_limit(astronaut: np.ndarray) -> None:
    with pytest.raises(ImageTooLargeError, match="pixels"):
        decode_image(encode(astronaut, "PNG"), ImageLimits(max_pixels=100_000))
    with pytest.raises(ImageTooLargeError):
        decode_image(astronaut, ImageLimits(max_pixels=100_000))


def _png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_decompression_bomb_rejected_before_decoding() -> None:
    bomb = _png_bomb(60_000, 60_000)
    assert len(bomb) < 10_000
    with pytest.raises(ImageTooLargeError):
        decode_image(bomb)


def test_bomb_under_pillow_limit_but_over_ours() -> None:
    with pytest.raises(ImageTooLargeError, match="pixels"):
        decode_image(_png_bomb(8000, 8000))


def test_wrong_array_types() -> None:
    with pytest.raises(InvalidImageError, match="uint8"):
        decode_image(np.zeros((10, 10, 3), dtype=np.float32))
    with pytest.raises(InvalidImageError, match="shape"):
        decode_image(np.zeros((10, 10, 5), dtype=np.uint8))
    with pytest.raises(InvalidImageError, match="unsupported"):
        decode_image(12345)  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError, match="no such file"):
        decode_image(tmp_path / "nope.jpg")


def _grey16(astronaut: np.ndarray) -> np.ndarray:
    grey = np.asarray(Image.fromarray(astronaut).convert("L"), dtype=np.uint16)
    return grey * 257  # the full 16-bit range, as a 16-bit scanner or medical camera writes it


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_greyscale_is_scaled_not_clipped(astronaut: np.ndarray, fmt: str) -> None:
    grey16 = _grey16(astronaut)
    buffer = io.BytesIO()
    Image.fromarray(grey16).save(buffer, format=fmt)
    decoded = decode_image(buffer.getvalue()).pixels
    expected = np.asarray(Image.fromarray(astronaut).convert("L"))
    assert decoded.shape == astronaut.shape
    assert np.abs(decoded[:, :, 0].astype(int) - expected).max() <= 1  # not almost white


@pytest.mark.parametrize(
    "mode,scale,offset",
    [("I", 257, 0), ("F", 1 / 255, 0), ("I", 100_000, -5_000_000), ("F", 40.0, -1000.0)],
)
def test_32_bit_integer_and_float_images_are_scaled(
    astronaut: np.ndarray, mode: str, scale: float, offset: float
) -> None:
    """16-bit data in a 32-bit container, floats in 0..1, and any other range stretched to 0..255."""
    grey = np.asarray(Image.fromarray(astronaut).convert("L"))
    values = (grey.astype(np.float64) * scale + offset).astype(np.int32 if mode == "I" else np.float32)
    buffer = io.BytesIO()
    Image.fromarray(values, mode=mode).save(buffer, format="TIFF")
    decoded = decode_image(buffer.getvalue()).pixels[:, :, 0].astype(int)
    low, high = int(grey.min()), int(grey.max())
    expected = grey if offset == 0 else np.round((grey.astype(float) - low) * 255 / (high - low))
    assert np.abs(decoded - expected).max() <= 1


def test_a_16_bit_grey_png_face_is_found(astronaut: np.ndarray, service: Regard) -> None:
    buffer = io.BytesIO()
    Image.fromarray(_grey16(astronaut)).save(buffer, format="PNG")
    assert len(service.detect(buffer.getvalue(), LOCAL).faces) == 1


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow(astronaut: np.ndarray, orientation: int) -> None:
    from PIL import ImageOps

    wide = np.ascontiguousarray(astronaut[:200, :300])
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(wide, "JPEG", exif=exif.tobytes(), quality=95)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    decoded = decode_image(data).pixels
    assert decoded.shape == expected.shape
    assert np.abs(decoded.astype(int) - expected.astype(int)).max() <= 2  # same libjpeg, maybe other IDCT rounding


def test_grey_jpeg_and_trailing_bytes(astronaut: np.ndarray) -> None:
    grey = encode(astronaut[:, :, 0], "JPEG")
    assert decode_image(grey).pixels.shape == astronaut.shape
    trailing = encode(astronaut, "JPEG") + b"camera maker notes after the image"
    assert decode_image(trailing).pixels.shape == astronaut.shape


def test_a_large_jpeg_comes_with_a_preview_and_decodes_in_full_on_demand(astronaut: np.ndarray) -> None:
    import cv2

    large = cv2.resize(astronaut[:256], (2048, 1024), interpolation=cv2.INTER_CUBIC)  # 2048 x 1024
    exif = Image.Exif()
    exif[0x0112] = 6  # upright it is 1024 wide, 2048 tall
    data = encode(large, "JPEG", exif=exif.tobytes(), quality=95)
    image = decode_image(data, preview_px=640)
    assert (image.info.width, image.info.height) == (1024, 2048) and not image.decoded_in_full
    assert image.preview is not None and image.preview.shape == (1024, 512, 3) and image.preview_factor == 2.0
    assert image.pixels.shape == (2048, 1024, 3) and image.decoded_in_full
    assert np.array_equal(image.pixels, decode_image(data).pixels)
    shrunk = cv2.resize(image.pixels, (512, 1024), interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk.astype(int) - image.preview.astype(int)).mean() < 3  # the DCT's 1/2 scale
    assert decode_image(encode(astronaut, "JPEG"), preview_px=640).preview is None  # under twice 640: no preview
