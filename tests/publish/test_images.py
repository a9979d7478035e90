"""Images: checked when the edition is read (refused at file:line), processed once per
edition: upright, resized, without EXIF/GPS, optimised, under a content-hashed name."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import ExifTags, Image

from newsletter.cli import main
from newsletter.content import images
from newsletter.core.config import load_workspace
from newsletter.content.loader import load_edition
from newsletter.render.images import edition_images

EDITION = "2026-11"


def check(ws: Path):
    return CliRunner().invoke(main, ["-C", str(ws), "check", EDITION])


def hero(ws: Path) -> Path:
    return ws / "issues" / EDITION / "images" / "hero.png"


def hero_line(ws: Path) -> int:
    lines = (ws / "issues" / EDITION / "edition.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip() == "image: images/hero.png")


def phone_photo(width: int = 4032, height: int = 3024) -> bytes:
    """A JPEG as a phone writes it: EXIF with camera, GPS position and a rotation flag."""
    img = Image.new("RGB", (width, height), (200, 120, 80))
    img.paste((30, 60, 200), (0, 0, width // 2, height // 3))   # not uniform: the rotation shows
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    exif[ExifTags.Base.Orientation] = 6                          # taken upright: rotate 90 degrees
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (48.0, 46.0, 30.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (9.0, 10.0, 50.0),
    }
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def use_photo(ws: Path, data: bytes, name: str = "photo.jpg") -> Path:
    path = ws / "issues" / EDITION / "images" / name
    path.write_bytes(data)
    edition = ws / "issues" / EDITION / "edition.yaml"
    edition.write_text(edition.read_text(encoding="utf-8").replace("image: images/hero.png", f"image: images/{name}"),
                       encoding="utf-8")
    return path


def test_a_phone_photo_comes_out_upright_resized_and_without_exif_or_gps(sample_ws: Path) -> None:
    source = use_photo(sample_ws, phone_photo())
    with Image.open(source) as img:
        assert img.getexif().get_ifd(ExifTags.IFD.GPSInfo)          # the test photo does carry GPS
    ws = load_workspace(sample_ws)
    table = edition_images(ws, load_edition(ws, EDITION))
    planned = table.by_ref["images/photo.jpg"]
    assert re.fullmatch(r"images/photo\.[0-9a-f]{10}\.jpg", planned.name)
    data = images.process(planned)
    with Image.open(io.BytesIO(data)) as out:
        assert out.format == "JPEG"
        exif = out.getexif()
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo) and len(exif) == 0, dict(exif)
        assert "exif" not in out.info and "xmp" not in out.info
        # Hero: shown 600 px wide, published 1200 px; turned upright (portrait) as the flag said.
        assert out.size == (1200, 1600) == (planned.width, planned.height)
        assert out.getpixel((1199, 10))[2] > 150                      # the blue corner is top right now
    assert len(data) < len(source.read_bytes()) / 4
    assert (planned.display_width, planned.display_height) == (600, 800)


def test_width_and_height_are_written_into_the_email_html(sample_ws: Path) -> None:
    use_photo(sample_ws, phone_photo())
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "build", EDITION])
    assert result.exit_code == 0, result.output
    html = (sample_ws / "build" / EDITION / "en" / "email.html").read_text(encoding="utf-8")
    tag = re.search(r'<img[^>]*src="[^"]*/images/photo\.[0-9a-f]{10}\.jpg"[^>]*>', html).group(0)
    assert 'width="600"' in tag and 'height="800"' in tag


def test_hashed_names_change_when_the_image_changes_and_only_then(sample_ws: Path) -> None:
    path = hero(sample_ws)

    def name() -> str:
        ws = load_workspace(sample_ws)
        return edition_images(ws, load_edition(ws, EDITION)).by_ref["images/hero.png"].name

    first = name()
    data = path.read_bytes()
    path.write_bytes(data)                                             # touched, same bytes
    os.utime(path, (1, 1))
    assert name() == first
    with Image.open(path) as img:
        img = img.copy()
    img.putpixel((0, 0), (1, 2, 3))
    img.save(path, "PNG")
    changed = name()
    assert changed != first and changed.startswith("images/hero.")
    path.write_bytes(data)                                             # corrected back
    assert name() == first


@pytest.mark.parametrize("kind, content, message", [
    ("empty", b"", "is empty (0 bytes)"),
    ("text named .png", b"just some notes, not a picture\n", "not an image (the file holds text)"),
    ("corrupt", None, "the image is damaged or incomplete"),
    ("HEIC", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "HEIC photos (iPhone)"),
    ("SVG", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "SVG images are not shown by Gmail and Outlook"),
    ("WebP", None, "WEBP images are not shown by every mail client"),
])
def test_images_no_mail_client_can_show_are_refused_at_file_and_line(sample_ws: Path, kind: str,
                                                                      content: bytes | None, message: str) -> None:
    path = hero(sample_ws)
    if kind == "corrupt":
        content = path.read_bytes()[: len(path.read_bytes()) // 2]      # a download cut short
    elif kind == "WebP":
        out = io.BytesIO()
        Image.new("RGB", (100, 50), "red").save(out, "WEBP")
        content = out.getvalue()
    path.write_bytes(content)
    result = check(sample_ws)
    assert result.exit_code == 1, result.output
    assert f"issues/{EDITION}/edition.yaml:{hero_line(sample_ws)}" in result.output
    assert "blocks[0].image: image " in result.output and "images/hero.png" in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_refused_image_inside_markdown_is_located_in_the_text(sample_ws: Path) -> None:
    (hero(sample_ws).parent / "inline.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    md = sample_ws / "issues" / EDITION / "articles" / "peer-learning.md"
    md.write_text(md.read_text(encoding="utf-8") + "\n![A drawing](images/inline.svg)\n", encoding="utf-8")
    result = check(sample_ws)
    assert result.exit_code == 1
    line = len(md.read_text(encoding="utf-8").splitlines())
    assert f"articles/peer-learning.md:{line}" in result.output and "SVG images are not shown" in result.output


def test_check_warns_about_an_image_over_the_size_budget(sample_ws: Path) -> None:
    noise = Image.frombytes("RGB", (1200, 900), os.urandom(1200 * 900 * 3))   # incompressible
    noise.save(hero(sample_ws), "PNG")
    result = check(sample_ws)
    assert result.exit_code == 0, result.output                               # a warning, not an error
    found = [line for line in result.output.splitlines() if "[image-size]" in line]
    assert len(found) == 1
    assert found[0].startswith(f"issues/{EDITION}/edition.yaml:{hero_line(sample_ws)}: warning: blocks[0].image:")
    assert "1200x900" in found[0] and f"budget {images.SIZE_BUDGET // 1000} KB" in found[0]
