"""The edition as the templates see it, for one variant: every text in the reader's language
with merge fields already tokens, Markdown ready for both sides, image references as absolute
URLs. Templates get plain attribute objects (``block.title``, ``event.when``), the same for the
MJML and the text side, so both parts say the same thing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Callable

from markupsafe import Markup
from pydantic import BaseModel

from newsletter.content.markdown import parser
from newsletter.content.model import Event, Resource, falls_back, is_url_field, text_for, text_marker
from newsletter.render import dates
from newsletter.render.fields import FieldRegistry
from newsletter.render.text import LinkRefs, markdown_to_text

IMAGE_FIELDS = ("image", "src")
# Control characters (other than tab and line breaks) mean nothing in an email, and MRML refuses
# a document holding one ("unable to parse next template"): an editor's pasted \x08 would stop
# the whole edition. They are dropped from every text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Md:
    """An editor's Markdown text (merge fields already tokens), rendered on demand:
    ``{{ block.body }}`` in an MJML template gives HTML, ``{{ block.body | text }}`` text."""

    def __init__(self, source: str, image_url: Callable[[str], str], restore: Callable[[str], str]):
        self.source = source
        self._image_url = image_url
        self._restore = restore

    def __html__(self) -> str:
        md = parser()
        tokens = md.parse(self.source)
        for tok in tokens:
            for child in tok.children or ():
                if child.type == "image":
                    url = self._image_url(str(child.attrGet("src") or ""))
                    child.attrSet("src", url)
                    if getattr(url, "width", None):  # a published image: its size, scaled on phones
                        child.attrSet("width", str(url.width))
                        child.attrSet("height", str(url.height))
                        child.attrSet("style", "max-width:100%;height:auto")
        return self._restore(md.renderer.render(tokens, md.options, {})).strip()

    @property
    def html(self) -> Markup:
        return Markup(self.__html__())

    def text(self, refs: LinkRefs, indent: str = "") -> str:
        return self._restore(markdown_to_text(self.source, refs, indent))

    def __str__(self) -> str:
        return self.source

    def __bool__(self) -> bool:
        return bool(self.source.strip())


@dataclass
class ViewContext:
    """What converting the model needs: language, fallback language, the variant's merge
    field registry, the theme's words and where local images are published."""

    language: str
    default_language: str
    fields: FieldRegistry
    words: SimpleNamespace
    image_url: Callable[[str], str]
    # id(event) -> its "Add to calendar" links (render.calendar): ics (or None) and google.
    calendar: dict[int, SimpleNamespace] = field(default_factory=dict)

    def text(self, value: dict[str, str] | None) -> str:
        return self.fields.tokenize(_CONTROL.sub("", text_for(value, self.language, self.default_language)))


def view(model: BaseModel, cx: ViewContext) -> SimpleNamespace:
    """Every field of ``model`` converted for the templates (see module docstring)."""
    out: dict[str, Any] = {}
    # field name -> the language it is shown in, for the texts that fall back to the default
    # language: the templates mark those elements with their own lang attribute.
    fallback: dict[str, str] = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        out[name] = _convert(name, info, value, cx)
        if text_marker(info) is not None and cx.language != cx.default_language and falls_back(value, cx.language):
            fallback[name] = cx.default_language
    out["fallback"] = fallback
    if isinstance(model, Event):
        out["when"] = dates.when(model, cx.words)
        out["day"], out["month"] = dates.badge(model, cx.words)
        out["calendar"] = cx.calendar.get(id(model))
    if isinstance(model, Resource) and model.phone:
        out["tel"] = tel_href(model.phone)
    return SimpleNamespace(**out)


def tel_href(phone: str) -> str:
    """A ``tel:`` link of a phone number as written by the editor: digits only, with the
    leading + of an international number (``+49 711 555 0142`` -> ``tel:+497115550142``)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"tel:+{digits}" if phone.strip().startswith("+") else f"tel:{digits}"


def _convert(name: str, info: Any, value: Any, cx: ViewContext) -> Any:
    if value is None:
        return None
    marker = text_marker(info)
    if marker is not None:
        text = cx.text(value)
        return Md(text, cx.image_url, cx.fields.restore) if marker.markdown else text
    if is_url_field(info) and isinstance(value, str):
        return cx.fields.tokenize(value)   # bound as one link field after rendering
    if name in IMAGE_FIELDS and isinstance(value, str):
        return cx.image_url(value)
    if isinstance(value, BaseModel):
        return view(value, cx)
    if isinstance(value, list):
        return [view(v, cx) if isinstance(v, BaseModel) else v for v in value]
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    return value


def block_views(blocks: list[tuple[int, BaseModel]], cx: ViewContext) -> list[SimpleNamespace]:
    """Views of (index in the edition, block) pairs; ``index`` and ``anchor`` are added."""
    # An editor's id may look like a generated one ("block-2"): generated anchors step aside.
    taken = {block_id for _, block in blocks if (block_id := getattr(block, "id", None))}
    out = []
    for index, block in blocks:
        item = view(block, cx)
        item.index = index
        item.anchor = getattr(block, "id", None) or _free_anchor(f"block-{index + 1}", taken)
        out.append(item)
    return out


def _free_anchor(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``, ... when an editor's id already holds it."""
    anchor, n = base, 1
    while anchor in taken:
        n += 1
        anchor = f"{base}-{n}"
    taken.add(anchor)
    return anchor
