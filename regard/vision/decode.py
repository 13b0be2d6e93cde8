"""Decode untrusted image input into RGB pixels, or fail with a typed, clear error."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from regard.domain import ImageInfo
from regard.errors import ImageTooLargeError, InvalidImageError

ImageSource = bytes | bytearray | memoryview | str | Path | np.ndarray

_ORIENTATION = 0x0112  # EXIF tag
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF")
# Greyscale modes deeper than 8 bits: Pillow's convert("RGB") clips them at 255, so most pixels turn white.
HIGH_DEPTH_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000


@dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # H x W x 3, uint8, RGB
    info: ImageInfo


def read_source(source: ImageSource, limits: ImageLimits) -> bytes | np.ndarray:
    """Bytes of a path or buffer (size-checked), or the array itself."""
    if isinstance(source, np.ndarray):
        return source
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise InvalidImageError(f"{path}: no such file")
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise ImageTooLargeError(f"{path}: {size} bytes exceeds the limit of {limits.max_bytes} bytes")
        return path.read_bytes()
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > limits.max_bytes:
            raise ImageTooLargeError(f"image of {len(data)} bytes exceeds the limit of {limits.max_bytes} bytes")
        return data
    raise InvalidImageError(f"unsupported image source type: {type(source).__name__}")


def decode_image(source: ImageSource, limits: ImageLimits | None = None) -> DecodedImage:
    """Decode ``source`` (bytes, path or array) to RGB uint8, EXIF orientation applied."""
    limits = limits or ImageLimits()
    raw = read_source(source, limits)
    if isinstance(raw, np.ndarray):
        return _from_array(raw, limits)
    return _from_bytes(raw, limits)


def _from_array(array: np.ndarray, limits: ImageLimits) -> DecodedImage:
    if array.dtype != np.uint8:
        raise InvalidImageError(f"image arrays must be uint8, got {array.dtype}")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) == 0:
        raise InvalidImageError(f"image arrays must be HxW, HxWx3 or HxWx4, got shape {array.shape}")
    _check_pixels(array.shape[1], array.shape[0], limits)
    rgb = np.ascontiguousarray(array[:, :, :3])
    info = ImageInfo(rgb.shape[1], rgb.shape[0], "ARRAY", hashlib.sha256(rgb.tobytes()).hexdigest())
    return DecodedImage(rgb, info)


def _check_pixels(width: int, height: int, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels:
        raise ImageTooLargeError(
            f"image of {width}x{height} = {width * height} pixels exceeds the limit of {limits.max_pixels} pixels"
        )


def _to_8_bit(image: Any) -> Any:
    """Scale a 16-bit, 32-bit integer or float greyscale image to 8 bits (mode "L") instead of clipping it.

    16-bit data (including 16-bit values in a 32-bit container) is divided by
    257, floats in 0..1 multiplied by 255, data already in 0..255 kept; any
    other range (negative values, wider integers) is stretched to 0..255.
    """
    from PIL import Image

    values: np.ndarray = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    scaled: np.ndarray
    if image.mode.startswith("I;16") or (image.mode == "I" and low >= 0 and 255 < high <= 65535):
        scaled = values / 257
    elif image.mode == "F" and low >= 0 and high <= 1:
        scaled = values * 255
    elif low >= 0 and high <= 255:
        scaled = values
    else:
        scaled = (values - low) * (255 / (high - low)) if high > low else np.zeros_like(values)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))


def _from_bytes(data: bytes, limits: ImageLimits) -> DecodedImage:
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise InvalidImageError("empty input: 0 bytes")
    sha = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            # Pillow warns then raises on huge images; we enforce our own lower limit below.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
            _check_pixels(image.width, image.height, limits)
            image.load()
            fmt = image.format or "UNKNOWN"
            # Each of these copies a camera-sized image (~1 ms per megapixel): only when needed.
            upright: Image.Image = image
            if image.getexif().get(_ORIENTATION, 1) != 1:
                upright = ImageOps.exif_transpose(image) or image
            if upright.mode in HIGH_DEPTH_MODES:
                upright = _to_8_bit(upright)
            rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(f"image rejected as a decompression bomb: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise InvalidImageError(f"not a supported image (accepted: {', '.join(f for f in ACCEPTED_FORMATS)})") from exc
    except ImageTooLargeError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImageError(f"corrupt or truncated image: {exc}") from exc
    pixels = np.asarray(rgb, dtype=np.uint8)
    return DecodedImage(np.ascontiguousarray(pixels), ImageInfo(pixels.shape[1], pixels.shape[0], fmt, sha))
