"""An uploaded photo as a page shows it: scaled down, inline, with numbered boxes drawn over it in SVG.

The photo is never stored: it is decoded again here (after the service accepted it, so within its limits),
scaled to at most ``PREVIEW_PX`` and sent back inside the page as a data: URI.  Boxes stay in the original
image's pixels (the SVG's viewBox), so they line up whatever the preview's size.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass

from regard.domain import Box, EnrollResult, SearchResult, UnindexedFace
from regard.settings import Settings
from regard.vision.decode import ImageLimits, decode_image

PREVIEW_PX = 960


@dataclass(frozen=True)
class Mark:
    """One face drawn on a photo: its number, box, kind (a CSS class: match, no-match, held, enrolled, skipped)
    and the words that say what the box shows, since colour alone must not."""

    label: str
    box: Box
    kind: str
    caption: str


@dataclass(frozen=True)
class Picture:
    title: str
    data_uri: str
    width: int  # the original image's pixels
    height: int
    marks: list[Mark]

    @property
    def stroke(self) -> float:
        return max(self.width, self.height) / 160

    @property
    def font_px(self) -> float:
        return max(self.width, self.height) / 28


def picture(data: bytes, settings: Settings, title: str, marks: list[Mark]) -> Picture:
    from PIL import Image

    decoded = decode_image(data, ImageLimits(settings.max_image_bytes, settings.max_image_pixels))
    height, width = decoded.pixels.shape[:2]
    image = Image.fromarray(decoded.pixels)
    image.thumbnail((PREVIEW_PX, PREVIEW_PX))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    uri = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    return Picture(title, uri, width, height, marks)


def search_marks(result: SearchResult) -> list[Mark]:
    """Each probe face: matched (with whom), no match, or held for review."""
    marks = []
    for number, found in enumerate(result.results, start=1):
        if found.probe is None:
            continue
        if result.review_case:
            kind, caption = "held", f"face {number}: held for review"
        elif found.matches:
            best = found.matches[0]
            kind, caption = "match", f"face {number}: matches {best.display_name or best.subject}"
        else:
            kind, caption = "no-match", f"face {number}: no match"
        marks.append(Mark(str(number), found.probe.box, kind, caption))
    return marks


@dataclass(frozen=True)
class Skipped:
    """A face found and not enrolled, numbered as on its image."""

    number: int
    face: UnindexedFace


def skipped_faces(result: EnrollResult) -> list[Skipped]:
    """The faces an enrollment skipped, numbered from 1 on each image."""
    counts: dict[str, int] = {}
    out = []
    for face in result.unindexed:
        counts[face.source] = counts.get(face.source, 0) + 1
        out.append(Skipped(counts[face.source], face))
    return out


def enrollment_pictures(images: list[bytes], result: EnrollResult, settings: Settings) -> list[Picture]:
    """Each uploaded image with its enrolled faces (✓) and the faces it skipped (numbered as in the table)."""
    skipped = skipped_faces(result)
    pictures = []
    for number, data in enumerate(images, start=1):
        label = f"image #{number}"
        sha = hashlib.sha256(data).hexdigest()
        marks = [Mark("✓", face.box, "enrolled", "enrolled") for face in result.indexed if face.image_sha256 == sha]
        marks += [
            Mark(str(s.number), s.face.face.box, "skipped", f"skipped: {', '.join(r.value for r in s.face.reasons)}")
            for s in skipped
            if s.face.source == label
        ]
        pictures.append(picture(data, settings, label, marks))
    return pictures
