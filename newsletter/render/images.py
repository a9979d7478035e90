"""Where and how large each image of an edition is shown, and what it is published as.

The widths are the default theme's (a 600 px email; see templates/blocks/*.mjml.j2): an
image is published at twice the width it is shown at. The table is computed once per
edition; rendering, checking, building and publishing all read the same one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from newsletter.content import images, markdown
from newsletter.content.loader import LoadedEdition, walk
from newsletter.content.model import text_marker
from newsletter.core.config import Workspace
from newsletter.core.errors import ConfigError, NewsletterError, RenderError, ValidationFailed
from newsletter.core.yamlsrc import Loc, format_loc, load_yaml

# CSS pixels an image field is shown at, per block type (600 px email, 32 px side padding):
# hero, article and image pictures span the whole email, one width; a card's picture fills its
# card (two cards per row in a 548 px band with 6 px gutters: 274 - 2 * 6).
FULL_WIDTH = 600
CARD_WIDTH = 262
FIELD_WIDTHS = {"hero": FULL_WIDTH, "article": FULL_WIDTH, "image": FULL_WIDTH, "cards": CARD_WIDTH, "quote": 120}
MARKDOWN_WIDTHS = {"cards": CARD_WIDTH}
TEXT_WIDTH = 536
LOGO_WIDTH = 200
LOGO = "logo"


@dataclass(frozen=True)
class Use:
    """One place an image is used: where in the edition, and how wide it is shown there."""

    loc: Loc
    width: int


@dataclass
class EditionImages:
    """Every local image of an edition, planned: reference -> Planned, plus the logo."""

    by_ref: dict[str, images.Planned] = field(default_factory=dict)
    uses: dict[str, list[Use]] = field(default_factory=dict)
    logo: images.Planned | None = None
    logo_dark: images.Planned | None = None

    def all(self) -> list[images.Planned]:
        found = list(self.by_ref.values()) + [p for p in (self.logo, self.logo_dark) if p]
        return sorted({p.name: p for p in found}.values(), key=lambda p: p.name)


def image_uses(loaded: LoadedEdition) -> dict[str, list[Use]]:
    """Every local image reference of the edition with where it is used and how wide."""
    uses: dict[str, list[Use]] = {}
    for i, block in enumerate(loaded.edition.blocks):
        for loc, ref, width in _refs(block, ("blocks", i)):
            if loaded.image_file(ref) is not None:
                uses.setdefault(ref, []).append(Use(loc, width))
    return uses


def _refs(block, base: Loc) -> Iterator[tuple[Loc, str, int]]:
    kind = block.type
    for loc, name, info, value in walk(block, base):
        if value is None:
            continue
        if name in ("image", "src") and isinstance(value, str):
            yield loc, value, FIELD_WIDTHS.get(kind, TEXT_WIDTH)
        elif (marker := text_marker(info)) is not None and marker.markdown:
            for text in value.values():
                if "![" not in text:  # no image in it: skip parsing (this runs once per variant)
                    continue
                for tok in markdown.parse(text):
                    for child in tok.children or ():
                        if child.type == "image":
                            yield loc, str(child.attrGet("src")), MARKDOWN_WIDTHS.get(kind, TEXT_WIDTH)


def edition_images(ws: Workspace, loaded: LoadedEdition) -> EditionImages:
    """The planned images of an edition, computed once per loaded edition (every variant's
    rendering asks; a changed file means a new LoadedEdition, as the preview reloads it)."""
    cache = loaded.__dict__.setdefault("_planned_images", {})
    key = (str(ws.root), ws.settings.organisation.logo, ws.settings.organisation.logo_dark)
    if key not in cache:
        cache[key] = _plan_images(ws, loaded)
    return cache[key]


def _plan_images(ws: Workspace, loaded: LoadedEdition) -> EditionImages:
    table = EditionImages(uses=image_uses(loaded))
    folder = loaded.folder.resolve()
    for ref, uses in table.uses.items():
        path = loaded.image_file(ref)
        assert path is not None
        try:
            info = images.inspect(path)
            rel = path.relative_to(folder).as_posix()
        except (images.ImageRefused, OSError, ValueError) as exc:  # the loader refuses these first
            raise RenderError(f"{loaded.name}: {format_loc(uses[0].loc)}: image {ref!r}: {exc}") from None
        table.by_ref[ref] = images.plan(info, rel, max(u.width for u in uses))
    table.logo = logo_image(ws)
    table.logo_dark = logo_image(ws, "logo_dark")
    return table


def logo_image(ws: Workspace, key: str = "logo") -> images.Planned | None:
    """The organisation's logo (or ``logo_dark``) when it is a workspace file (published
    beside the images)."""
    logo = getattr(ws.settings.organisation, key)
    if not logo or logo.lower().startswith(("http://", "https://")):
        return None
    path = (ws.root / logo).resolve()
    if not path.is_file():
        raise _setting_error(ws, key, f"file {logo!r} not found in {ws.root}")
    try:
        info = images.inspect(path)
    except images.ImageRefused as exc:
        raise _setting_error(ws, key, f"{logo!r}: {exc}") from None
    return images.plan(info, Path(logo).name, LOGO_WIDTH)


def _setting_error(ws: Workspace, key: str, message: str) -> NewsletterError:
    """The mistake at organisation.<key>'s line in newsletter.yaml (editors fix it there);
    without that line (the value came from the environment) the file and key alone."""
    try:
        _, smap = load_yaml(ws.settings_file)
        pos = smap.positions.get(("organisation", key))
    except (OSError, NewsletterError):
        pos = None
    if pos is None or pos.line is None:
        return ConfigError(f"newsletter.yaml: organisation.{key}: {message}")
    return ValidationFailed([smap.error(("organisation", key), message)])


class ImageUrl(str):
    """An image's URL that also knows the size it is shown at (None for remote images)."""

    width: int | None = None
    height: int | None = None

    @classmethod
    def sized(cls, url: str, width: int, height: int) -> "ImageUrl":
        out = cls(url)
        out.width, out.height = width, height
        return out


_IMG = re.compile(r"<img\b[^>]*>")
_ATTR = re.compile(r'\s(src|width|height)="([^"]*)"')


def write_heights(html: str, sizes: dict[str, tuple[int, int]]) -> str:
    """MJML writes ``height="auto"`` on every image (not a valid HTML height); give the
    published images their real height for the width MJML chose (CSS keeps ``height:auto``, so
    phones still scale) and drop the attribute where the size is unknown (remote images)."""
    def fix(match: re.Match[str]) -> str:
        tag = match.group(0)
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("height") != "auto":
            return tag
        size = sizes.get(attrs.get("src", ""))
        if size is None or not attrs.get("width", "").isdigit():
            return tag.replace(' height="auto"', "", 1)
        height = max(1, round(int(attrs["width"]) * size[1] / size[0]))
        return tag.replace('height="auto"', f'height="{height}"', 1)
    return _IMG.sub(fix, html)
