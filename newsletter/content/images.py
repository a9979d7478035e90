"""The editor's images: what mail clients can show, checked and processed once per edition.

``inspect`` refuses what no mail client shows well (SVG, HEIC, WebP, TIFF...) and what is not
an image at all (an empty file, a text file named photo.jpg, a truncated download), with a
message that says what to do. ``process`` turns an accepted image into the published file:
turned upright, resized to twice the width it is shown at (sharp on high-density screens,
no heavier), every EXIF/XMP block dropped (a phone photo carries the GPS position of the
centre and the camera's serial number), JPEG and PNG optimised. The published name carries
a hash of the source and the processing, so a corrected image never hides behind a cached
old one, and an unchanged one keeps its name (and its cache) for ever.
"""
from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

# Formats every common mail client shows (Gmail, Outlook, Apple Mail, Thunderbird).
MAIL_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif"}
# A published image above this many bytes is slow on a phone connection: warn.
SIZE_BUDGET = 250_000
# Bump when the processing changes, so every hashed name changes with it.
PROCESS_VERSION = "1"
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")
_HEIC_HINT = ("HEIC photos (iPhone) are not shown by most mail clients; export it as JPEG "
              "(on the iPhone: Settings > Camera > Formats > Most Compatible, or share the photo "
              "as JPEG) and name the .jpg here")


class ImageRefused(ValueError):
    """An image that cannot go into an email; the message says why and what to do."""


@dataclass(frozen=True)
class ImageInfo:
    """An accepted source image: its format, its upright size and a hash of its bytes."""

    path: Path
    format: str
    width: int
    height: int
    size: int
    digest: str
    animated: bool


@dataclass(frozen=True)
class Planned:
    """What the published file of an image will be, known without processing it."""

    source: ImageInfo
    name: str              # path under the edition's folder on the site, hash included
    width: int             # pixels of the published file
    height: int
    display_width: int     # CSS pixels it is shown at
    display_height: int


def inspect(path: Path) -> ImageInfo:
    """Read and check one image file; ImageRefused says what is wrong with it."""
    stat = path.stat()
    return _inspect(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _inspect(path_text: str, _mtime: int, _size: int) -> ImageInfo:
    path = Path(path_text)
    data = path.read_bytes()
    if not data:
        raise ImageRefused("the image file is empty (0 bytes); save or export the image again")
    head = data[:512].lstrip()
    if path.suffix.lower() in (".svg", ".svgz") or head.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096]:
        raise ImageRefused("SVG images are not shown by Gmail and Outlook and can carry script; "
                           "export it as PNG")
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        raise ImageRefused(_HEIC_HINT)
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or "?"
            animated = bool(getattr(img, "is_animated", False))
            img.load()
            width, height = ImageOps.exif_transpose(img).size if fmt == "JPEG" else img.size
    except UnidentifiedImageError:
        raise ImageRefused(f"not an image ({_what(data)}); save it again as JPEG or PNG") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRefused(f"the image is damaged or incomplete ({exc}); save or download it again") from None
    if fmt not in MAIL_FORMATS:
        raise ImageRefused(f"{fmt} images are not shown by every mail client; export it as JPEG "
                           "(photos) or PNG (drawings, logos)")
    if width < 1 or height < 1:
        raise ImageRefused("the image has no pixels")
    return ImageInfo(path, fmt, width, height, len(data), hashlib.sha256(data).hexdigest(), animated)


def _what(data: bytes) -> str:
    try:
        data[:200].decode("utf-8")
        return "the file holds text"
    except UnicodeDecodeError:
        return "Pillow does not recognise its contents"


def plan(info: ImageInfo, rel: str, display_width: int) -> Planned:
    """The published name and size of ``info`` shown ``display_width`` CSS pixels wide:
    twice that many pixels at most (never enlarged); animated GIFs stay as they are."""
    width = info.width if info.animated else min(info.width, 2 * display_width)
    height = max(1, round(info.height * width / info.width))
    shown = min(display_width, width)
    key = f"{info.digest}:{width}:{PROCESS_VERSION}".encode()
    digest = hashlib.sha256(key).hexdigest()[:10]
    rel_path = PurePosixPath(rel)
    name = str(rel_path.with_name(f"{rel_path.stem}.{digest}.{MAIL_FORMATS[info.format]}"))
    return Planned(info, name, width, height, shown, max(1, round(height * shown / width)))


def process(planned: Planned) -> bytes:
    """The published bytes of a planned image (cached: once per edition and process)."""
    info = planned.source
    return _process(str(info.path), info.digest, planned.width, planned.height)


@lru_cache(maxsize=64)
def _process(path_text: str, _digest: str, width: int, height: int) -> bytes:
    data = Path(path_text).read_bytes()
    with Image.open(io.BytesIO(data)) as img:
        if getattr(img, "is_animated", False):
            return data  # resizing would drop frames; a GIF carries no EXIF
        fmt = img.format
        icc = img.info.get("icc_profile")
        upright = ImageOps.exif_transpose(img)
        if upright.size != (width, height):
            upright = upright.resize((width, height), Image.Resampling.LANCZOS)
        return _save(upright, fmt or "PNG", icc)


def _save(img: Image.Image, fmt: str, icc: bytes | None) -> bytes:
    """Save without any metadata but the colour profile: a fresh image carries no EXIF or XMP."""
    clean = Image.new(img.mode, img.size)
    clean.paste(img)
    if img.mode == "P" and img.getpalette():
        clean.putpalette(img.getpalette())
        if "transparency" in img.info:
            clean.info["transparency"] = img.info["transparency"]
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        if clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        clean.save(out, "JPEG", quality=82, optimize=True, progressive=True, **extra)
    elif fmt == "GIF":
        clean.save(out, "GIF", optimize=True, **({"transparency": clean.info["transparency"]}
                                                  if "transparency" in clean.info else {}))
    else:
        png_extra = dict(extra)
        if "transparency" in clean.info:
            png_extra["transparency"] = clean.info["transparency"]
        clean.save(out, "PNG", optimize=True, **png_extra)
    return out.getvalue()
