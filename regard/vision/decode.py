"""Decode untrusted image input into RGB pixels, or fail with a typed, clear error."""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable
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


class DecodedImage:
    """An image's RGB pixels (H x W x 3, uint8) and facts.

    A large JPEG may come with a ``preview``: the image decoded at 1/2, 1/4 or
    1/8 of its size, which the JPEG decoder does almost for free.  Detection
    runs on it, and so does alignment where the face is large enough; ``pixels``
    then decodes the whole image on first use only.
    """

    __slots__ = ("_full", "_pixels", "info", "preview", "preview_factor")

    def __init__(
        self,
        pixels: np.ndarray | None,
        info: ImageInfo,
        preview: np.ndarray | None = None,
        full: Callable[[], np.ndarray] | None = None,
    ) -> None:
        if pixels is None and full is None:
            raise ValueError("an image needs its pixels or a way to decode them")
        self._pixels = pixels
        self._full = full
        self.info = info
        self.preview = preview
        # Image pixels per preview pixel (the JPEG decoder rounds the preview's size up).
        self.preview_factor = info.width / preview.shape[1] if preview is not None else 1.0

    @property
    def pixels(self) -> np.ndarray:
        if self._pixels is None:
            assert self._full is not None
            self._pixels = self._full()
        return self._pixels

    @property
    def decoded_in_full(self) -> bool:
        return self._pixels is not None

    def for_detection(self) -> tuple[np.ndarray, float]:
        """The pixels detection should run on and the factor from their coordinates to the image's."""
        if self.preview is not None:
            return self.preview, self.preview_factor
        return self.pixels, 1.0


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


def decode_image(source: ImageSource, limits: ImageLimits | None = None, preview_px: int = 0) -> DecodedImage:
    """Decode ``source`` (bytes, path or array) to RGB uint8, EXIF orientation applied.

    With ``preview_px``, a JPEG at least twice that size on its longer side is
    decoded at the smallest of 1/2, 1/4, 1/8 that keeps ``preview_px``, and in
    full only when ``pixels`` is read.
    """
    limits = limits or ImageLimits()
    raw = read_source(source, limits)
    if isinstance(raw, np.ndarray):
        return _from_array(raw, limits)
    return _from_bytes(raw, limits, preview_px)


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


def _from_bytes(data: bytes, limits: ImageLimits, preview_px: int = 0) -> DecodedImage:
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
            fast = _jpeg_image(data, image, sha, preview_px)
            if fast is not None:
                return fast
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


# EXIF orientation -> the numpy steps that make the image upright (as PIL's exif_transpose does).
_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
    8: lambda a: np.rot90(a, 1),
}


# OpenCV's flags for a JPEG decoded at 1/n of its size in the DCT (grey bit off, RGB on).
_REDUCED = {1: 0, 2: 16, 4: 32, 8: 64}


def _jpeg_image(data: bytes, image: Any, sha: str, preview_px: int) -> DecodedImage | None:
    """An RGB or grey JPEG decoded by OpenCV straight into an array, or None to let Pillow do it.

    Pillow keeps RGB as 4 bytes per pixel, so handing its pixels to numpy costs
    a repacking copy (~3 ms for a 3.5 MP photo, a third of the decode).  The
    header was already read and checked by Pillow; a file that does not end
    with the JPEG end-of-image marker (truncated, or with trailing data) goes
    through Pillow, which tells the two apart.
    """
    if image.format != "JPEG" or image.mode not in ("RGB", "L") or not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return None
    orientation = image.getexif().get(_ORIENTATION, 1)
    width, height = (image.height, image.width) if orientation in (5, 6, 7, 8) else (image.width, image.height)
    info = ImageInfo(width, height, "JPEG", sha)
    reduction = max((r for r in _REDUCED if preview_px and max(width, height) // r >= preview_px), default=1)
    if reduction == 1:
        pixels = _opencv_jpeg(data, orientation, 1)
        return DecodedImage(pixels, info) if pixels is not None and pixels.shape[:2] == (height, width) else None
    preview = _opencv_jpeg(data, orientation, reduction)
    if preview is None:
        return None

    def full() -> np.ndarray:
        pixels = _opencv_jpeg(data, orientation, 1)
        if pixels is None or pixels.shape[:2] != (height, width):
            raise InvalidImageError("corrupt JPEG: the full image does not decode as its preview did")
        return pixels

    return DecodedImage(None, info, preview=preview, full=full)


def _opencv_jpeg(data: bytes, orientation: int, reduction: int) -> np.ndarray | None:
    import cv2

    flags = _REDUCED[reduction] | cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if pixels is None:
        return None
    if orientation in _UPRIGHT:
        pixels = np.ascontiguousarray(_UPRIGHT[orientation](pixels))
    return np.asarray(pixels, dtype=np.uint8)
