"""The edition format: one pydantic schema for what an editor writes.

Texts may be one string (the same in every language) or a mapping ``{en: ..., de: ...}``;
a language missing from the mapping falls back to the default language, and
``newsletter check`` reports each fallback. See docs/editions.md.
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import typing
import unicodedata
from typing import Annotated, Any, Iterator, Literal, Union
from urllib.parse import unquote
import zoneinfo
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from newsletter.content.tags import foreign_tags

ANY_LANG = "*"
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class TextMarker:
    """Metadata on a field whose value is an editor's text (checked for languages, merge fields)."""

    def __init__(self, markdown: bool = False):
        self.markdown = markdown


def text_marker(info: Any) -> TextMarker | None:
    """The TextMarker of a pydantic FieldInfo, also when the text is optional (Text | None)."""
    for meta in info.metadata:
        if isinstance(meta, TextMarker):
            return meta
    return _marker_in(info.annotation)


def _marker_in(tp: Any) -> TextMarker | None:
    for meta in getattr(tp, "__metadata__", ()):
        if isinstance(meta, TextMarker):
            return meta
    for arg in typing.get_args(tp):
        found = _marker_in(arg)
        if found:
            return found
    return None


def _to_text(value: Any) -> Any:
    if isinstance(value, str):
        return {ANY_LANG: value}
    if isinstance(value, dict):
        bad = [k for k in value if not _LANG.match(str(k))]
        if bad:
            raise ValueError(f"expected a text or a mapping of language codes to texts; "
                             f"{bad[0]!r} is not a language code like 'en' or 'de'")
        for lang, text in value.items():
            if not isinstance(text, str):
                raise ValueError(f"the {lang!r} text must be a text, got {type(text).__name__}")
        if not value:
            raise ValueError("expected a text, got an empty mapping")
        return value
    if value is None:
        raise ValueError("expected a text, got nothing")
    raise ValueError(f"expected a text or a mapping of language codes to texts, got {type(value).__name__}")


Text = Annotated[dict[str, str], BeforeValidator(_to_text), TextMarker()]
Markdown = Annotated[dict[str, str], BeforeValidator(_to_text), TextMarker(markdown=True)]


# Characters that may not stand in a link: spaces of every kind (a no-break space pasted from
# a word processor looks like nothing and breaks the link), control and invisible format
# characters, and what HTML or mail clients treat as the end of a URL.
URL_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f"
                        r"\u205f-\u2064\u3000\ufeff\\\"<>^`{|}]")


def _char_name(char: str) -> str:
    if char == " ":
        return "a space"
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name.lower()})" if name else "")


def check_url(value: str) -> str:
    """Links must be absolute http(s) or mailto with an address: a relative link breaks in
    every mail client. Whitespace around the link is forgiven, inside it is not."""
    value = value.strip(" \t\r\n")
    low = value.lower()
    bad = URL_UNSAFE.search(value)
    if bad and not low.startswith(("javascript:", "data:", "vbscript:")):
        raise ValueError(f"a link may not hold {_char_name(bad.group(0))}; got {value!r}")
    if low.startswith(("http://", "https://")):
        rest = value.split("://", 1)[1]
        if not rest or rest[0] in "/?#:@":
            raise ValueError(f"expected an absolute http(s) URL with a host, got {value!r}")
        return value
    if low.startswith("mailto:"):
        address = value[len("mailto:"):].split("?", 1)[0]
        local, at, domain = unquote(address).partition("@")
        if at and local.strip() and "." in domain and not domain.startswith("."):
            return value
        raise ValueError(f"a mailto: link needs an address (mailto:office@example.org), got {value!r}")
    raise ValueError(f"expected an absolute http(s) or mailto: link, got {value!r}")


class UrlMarker:
    """Metadata on a link field (``Url``): merge fields in it are filled per recipient."""


def is_url_field(info: Any) -> bool:
    return any(isinstance(m, UrlMarker) for m in info.metadata) or _has(info.annotation, UrlMarker)


def _has(tp: Any, kind: type) -> bool:
    if any(isinstance(m, kind) for m in getattr(tp, "__metadata__", ())):
        return True
    return any(_has(arg, kind) for arg in typing.get_args(tp))


def _check_link(value: str) -> str:
    # A link holding merge fields is checked where the merge fields are known, with their
    # defaults filled in (content.loader.Checker), so its error can point at the field.
    for tag in foreign_tags(value):
        raise ValueError(tag.message())
    return value.strip() if "{{" in value else check_url(value)


Url = Annotated[str, AfterValidator(_check_link), UrlMarker()]
# An image is an absolute http(s) URL or a file in the edition folder (checked when loading).
ImageRef = Annotated[str, Field(min_length=1)]


@functools.lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """Every IANA zone name, by its lower-case form and by its last part ('berlin')."""
    out: dict[str, str] = {}
    for zone in sorted(zoneinfo.available_timezones()):
        out.setdefault(zone.lower(), zone)
        out.setdefault(zone.rsplit("/", 1)[-1].lower().replace("_", " "), zone)
    return out


def check_timezone(value: str) -> str:
    """An IANA zone name ('Europe/Berlin', 'UTC'). Not 'localtime' or a path: the zone of the
    machine that builds the edition is nobody's business, and no reader's zone."""
    zones = _zones()
    if value in zoneinfo.available_timezones() and value not in ("localtime", "Factory"):
        return value
    guess = zones.get(value.strip().lower()) or zones.get(value.strip().lower().replace("_", " "))
    if guess is None:
        close = difflib.get_close_matches(value, sorted(set(zones.values())), n=1, cutoff=0.8)
        guess = close[0] if close else None
    if value.strip().lower() == "localtime":
        why = "'localtime' is the zone of the machine that builds the edition, not of the event"
        raise ValueError(f"{why}; write the event's IANA time zone, like 'Europe/Berlin' or 'UTC'")
    hint = f"; did you mean {guess!r}?" if guess and guess != value else ""
    raise ValueError(f"expected an IANA time zone like 'Europe/Berlin' or 'UTC', got {value!r}{hint}")


_DMY = re.compile(r"^\s*(\d{1,2})[./](\d{1,2})[./](\d{4})(?:[ ,T]+(\d{1,2})[:.h](\d{2}))?\s*$")
_YMD_SLASH = re.compile(r"^\s*(\d{4})[./](\d{1,2})[./](\d{1,2})(?:[ ,T]+(\d{1,2})[:.h](\d{2}))?\s*$")


def _date_input(with_time: bool) -> Any:
    """A BeforeValidator: ISO dates pass to pydantic; anything else gets a message with the
    form expected (and the date an editor probably meant), never a parser's own wording."""
    example = "2026-12-03T18:30" if with_time else "2026-12-03"

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        iso = text.replace(" ", "T", 1) if with_time else text
        try:
            (dt.datetime if with_time else dt.date).fromisoformat(iso)
            return iso
        except ValueError:
            pass
        meant = _meant(text, with_time)
        hint = f"; did you mean {meant}?" if meant else ""
        if not meant and re.match(r"^\d{4}-\d{1,2}-\d{1,2}", text):
            hint = "; there is no such day" if _no_such_day(text) else ""
        form = "year-month-dayThour:minute" if with_time else "year-month-day"
        raise ValueError(f"expected a {'date and time' if with_time else 'date'} written {example} "
                         f"({form}), got {value!r}{hint}")
    return BeforeValidator(check)


def _no_such_day(text: str) -> bool:
    year, month, day = (int(x) for x in re.findall(r"\d+", text)[:3])
    try:
        dt.date(year, month, day)
    except ValueError:
        return True
    return False


def _meant(text: str, with_time: bool) -> str | None:
    m = _DMY.match(text)
    if m:
        day, month, year, hour, minute = m.groups()
    else:
        m = _YMD_SLASH.match(text)
        if not m:
            return None
        year, month, day, hour, minute = m.groups()
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    if not with_time:
        return date.isoformat() if hour is None else None
    if hour is None:
        return f"{date.isoformat()}T10:00 (with the time it starts)"
    return f"{date.isoformat()}T{int(hour):02d}:{minute}"


IsoDate = Annotated[dt.date, _date_input(False)]
IsoDateTime = Annotated[dt.datetime, _date_input(True)]


TimeZone = Annotated[str, AfterValidator(check_timezone)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Button(Model):
    label: Text
    url: Url


class _Block(Model):
    audience: str | None = Field(None, description="Segment name: shown only to its members.")
    id: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]*$", description="Anchor name.")


class _WithImage(Model):
    image: ImageRef | None = None
    alt: Text | None = None

    @model_validator(mode="after")
    def _alt_needed(self) -> Any:
        if self.image and not self.alt:
            raise ValueError("an image needs alt text: add 'alt:' describing it for people who cannot see it")
        return self


class HeroBlock(_Block, _WithImage):
    type: Literal["hero"]
    title: Text
    intro: Markdown | None = None
    button: Button | None = None


class ArticleBlock(_Block, _WithImage):
    type: Literal["article"]
    title: Text
    body: Markdown | None = None
    link: Url | None = None
    button: Button | None = None


class Event(Model):
    title: Text
    start: IsoDateTime
    end: IsoDateTime | None = None
    timezone: TimeZone
    place: Text | None = None
    online: Url | None = None
    registration: Url | None = None
    description: Markdown | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Event":
        if self.start.tzinfo is not None or (self.end and self.end.tzinfo is not None):
            raise ValueError("write start and end as local times (2026-11-20T10:00) and give 'timezone:'")
        if self.end and self.end <= self.start:
            raise ValueError(f"end ({self.end:%Y-%m-%d %H:%M}) must be after start ({self.start:%Y-%m-%d %H:%M})")
        if not self.place and not self.online:
            raise ValueError("an event needs a 'place:' or an 'online:' link")
        return self

    def zoned(self) -> tuple[dt.datetime, dt.datetime | None]:
        zone = ZoneInfo(self.timezone)
        return self.start.replace(tzinfo=zone), self.end.replace(tzinfo=zone) if self.end else None


class EventsBlock(_Block):
    type: Literal["events"]
    title: Text
    intro: Markdown | None = None
    events: list[Event] = Field(min_length=1)


class CtaBlock(_Block):
    type: Literal["cta"]
    title: Text
    text: Markdown | None = None
    button: Button


class Resource(Model):
    name: Text
    description: Text | None = None
    url: Url | None = None
    phone: str | None = Field(None, pattern=r"^\+?[0-9 ()./-]{3,30}$")

    @field_validator("phone")
    @classmethod
    def _dialable(cls, value: str | None) -> str | None:
        # the tel: link keeps only the digits: "+ ()" would link to an empty "tel:+"
        if value is not None and sum(ch in "0123456789" for ch in value) < 3:
            raise ValueError(f"a phone number needs at least 3 digits; got {value!r}")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> "Resource":
        if not self.url and not self.phone:
            raise ValueError("a resource needs a 'url:' or a 'phone:' so readers can reach it")
        return self


class ResourcesBlock(_Block):
    type: Literal["resources"]
    title: Text
    intro: Markdown | None = None
    items: list[Resource] = Field(min_length=1)


class QuoteBlock(_Block, _WithImage):
    type: Literal["quote"]
    text: Text
    author: str
    role: Text | None = None


class ImageBlock(_Block):
    type: Literal["image"]
    src: ImageRef
    alt: Text
    caption: Text | None = None
    link: Url | None = None


class Card(_WithImage):
    title: Text
    text: Markdown | None = None
    link: Url | None = None
    button: Button | None = None


class CardsBlock(_Block):
    type: Literal["cards"]
    title: Text | None = None
    cards: list[Card] = Field(min_length=2, description="Shown two per row on desktop.")


class DividerBlock(_Block):
    type: Literal["divider"]


class MarkdownBlock(_Block):
    type: Literal["markdown"]
    body: Markdown


Block = Annotated[
    Union[HeroBlock, ArticleBlock, EventsBlock, CtaBlock, ResourcesBlock, QuoteBlock,
          ImageBlock, CardsBlock, DividerBlock, MarkdownBlock],
    Field(discriminator="type"),
]
BLOCK_TYPES = ["hero", "article", "events", "cta", "resources", "quote", "image", "cards",
               "divider", "markdown"]


class Edition(Model):
    """One newsletter issue: edition.yaml in its own folder under issues/."""

    number: int = Field(ge=1)
    date: IsoDate
    languages: list[Annotated[str, Field(pattern=_LANG.pattern)]] = Field(min_length=1)
    subject: Text
    preheader: Text | None = None
    archive: bool = Field(True, description="Publish this edition in the public web archive and "
                                            "feeds (`newsletter publish`); false keeps it email-only.")
    blocks: list[Block] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_languages(self) -> "Edition":
        if len(set(self.languages)) != len(self.languages):
            raise ValueError(f"languages are listed twice: {self.languages}")
        return self


def text_for(value: dict[str, str] | None, lang: str, default: str) -> str:
    """The text in ``lang``, falling back to the language-neutral text, then the default language."""
    if not value:
        return ""
    for key in (lang, ANY_LANG, default):
        if key in value:
            return value[key]
    return next(iter(value.values()))


def falls_back(value: dict[str, str] | None, lang: str) -> bool:
    return bool(value) and lang not in value and ANY_LANG not in value


def walk(model: BaseModel, loc: Loc = ()) -> Iterator[tuple[Loc, str, Any, Any]]:
    """Every field value under ``model``: (loc, field name, field info, value)."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        here = loc + (name,)
        yield here, name, info, value
        if isinstance(value, BaseModel):
            yield from walk(value, here)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from walk(item, here + (i,))
