"""Editorial checks: what is valid YAML and a valid edition, and still must not be mailed.

Errors: placeholder text from ``newsletter new`` (``TODO ...``) or an empty subject or title,
two blocks with the same ``id``, an edition number another edition already has, an edition
folder whose name cannot stand in a URL. Warnings (``notes``, each with a code): an event that
starts before the edition's date, a subject or preheader the same as the previous edition's
(``new --like`` copies them), an ``alt: ""`` (the image is then skipped by screen readers).
Every one points at the line the editor wrote.
"""
from __future__ import annotations

import re
from typing import Any, Iterator, Protocol

from newsletter.content.model import ANY_LANG, Edition, EventsBlock, text_for, text_marker, walk
from newsletter.core.errors import SourceError
from newsletter.core.yamlsrc import Loc, SourceMap, format_loc


class LoadedEdition(Protocol):
    """What these checks read of ``loader.LoadedEdition`` (which calls them)."""

    name: str
    edition: Edition
    smap: SourceMap
    default_language: str


Others = list[tuple[str, dict[str, Any]]]   # (name, raw data) of the workspace's other editions

# Words the skeleton of `newsletter new` (content.scaffold) and editors use for "not written yet".
_PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b|\blorem ipsum\b", re.I)
_REQUIRED = {"subject", "title", "label", "name", "text"}
FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def folder_problem(name: str) -> str | None:
    """Why an edition folder name cannot be published (it becomes part of every URL)."""
    if FOLDER_NAME.match(name):
        return None
    bad = next((c for c in name if not re.match(r"[A-Za-z0-9._-]", c)), name[:1])
    what = "a space" if bad.isspace() else repr(bad)
    fixed = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._") or "2026-12"
    return (f"the edition folder name {name!r} holds {what}, which breaks the archive and image "
            f"URLs built from it; rename the folder, e.g. to {fixed!r}")


def errors(loaded: LoadedEdition, others: Others) -> list[SourceError]:
    return [*_texts(loaded), *_ids(loaded), *_number(loaded, others)]


def notes(loaded: LoadedEdition, others: Others) -> list[tuple[str, SourceError]]:
    """Warnings with their finding codes."""
    return [*_past_events(loaded), *_repeated(loaded, others), *_empty_alts(loaded)]


def _walk_texts(loaded: LoadedEdition) -> Iterator[tuple[Loc, str, str, str]]:
    for loc, name, info, value in walk(loaded.edition):
        if value is not None and text_marker(info) is not None:
            for lang, text in value.items():
                yield loc, name, lang, text


def _err(loaded: LoadedEdition, loc: Loc, message: str, text: str | None = None,
         offset: int = 0) -> SourceError:
    shown = loc[:-1] if loc and loc[-1] == ANY_LANG else loc
    pos = loaded.smap.text_pos(loc, text, offset) if text is not None else None
    return loaded.smap.error(loc, message, format_loc(shown), pos=pos)


def _texts(loaded: LoadedEdition) -> Iterator[SourceError]:
    for loc, name, lang, text in _walk_texts(loaded):
        tloc = loc + (lang,)
        found = _PLACEHOLDER.search(text)
        if found:
            snippet = text[found.start():found.start() + 40].split("\n")[0]
            yield _err(loaded, tloc, f"placeholder text {snippet!r} (from the skeleton of "
                       "`newsletter new`?): write the real text before sending", text, found.start())
        elif name in _REQUIRED and not text.strip():
            yield _err(loaded, tloc, f"the {name} is empty")


def _ids(loaded: LoadedEdition) -> Iterator[SourceError]:
    seen: dict[str, int] = {}
    for i, block in enumerate(loaded.edition.blocks):
        if block.id is None:
            continue
        if block.id in seen:
            first = loaded.smap.lookup(("blocks", seen[block.id], "id"))
            yield _err(loaded, ("blocks", i, "id"), f"id {block.id!r} is already the id of "
                       f"blocks[{seen[block.id]}] (line {first.line}); ids name anchors and must be unique")
        else:
            seen[block.id] = i


def _number(loaded: LoadedEdition, others: Others) -> Iterator[SourceError]:
    number = loaded.edition.number
    for name, data in others:
        if str(data.get("number", "")).strip() == str(number):
            yield _err(loaded, ("number",), f"number {number} is already the number of edition "
                       f"{name}; the next free number is {_next_number(loaded, others)}")
            return


def _next_number(loaded: LoadedEdition, others: Others) -> int:
    numbers = [loaded.edition.number]
    for _name, data in others:
        try:
            numbers.append(int(str(data.get("number"))))
        except ValueError:
            continue
    return max(numbers) + 1


def _past_events(loaded: LoadedEdition) -> Iterator[tuple[str, SourceError]]:
    date = loaded.edition.date
    for i, block in enumerate(loaded.edition.blocks):
        if not isinstance(block, EventsBlock):
            continue
        for j, event in enumerate(block.events):
            if (event.end or event.start).date() < date:
                loc = ("blocks", i, "events", j, "start")
                yield "past-event", _err(loaded, loc, f"the event starts on {event.start:%Y-%m-%d}, before "
                                         f"the edition's date ({date:%Y-%m-%d}); left over from an earlier edition?")


def _previous(loaded: LoadedEdition, others: Others) -> tuple[str, dict[str, Any]] | None:
    """The latest edition dated before this one (by the date it gives)."""
    mine = loaded.edition.date.isoformat()
    earlier = [(str(d.get("date")), name, d) for name, d in others
               if str(d.get("date", "")) < mine]
    if not earlier:
        return None
    _date, name, data = max(earlier, key=lambda e: e[0])
    return name, data


def _repeated(loaded: LoadedEdition, others: Others) -> Iterator[tuple[str, SourceError]]:
    found = _previous(loaded, others)
    if found is None:
        return
    name, data = found
    for key in ("subject", "preheader"):
        before = data.get(key)
        now = getattr(loaded.edition, key)
        if not now or not before:
            continue
        before_texts = before if isinstance(before, dict) else {ANY_LANG: before}
        same = [lang for lang in loaded.edition.languages
                if str(text_for(before_texts, lang, loaded.default_language)).strip()
                == text_for(now, lang, loaded.default_language).strip()]
        if same:
            yield "repeated", _err(loaded, (key,), f"the {key} is the same as edition {name}'s "
                                   f"({', '.join(same)}); readers take it for last month's email")


def _empty_alts(loaded: LoadedEdition) -> Iterator[tuple[str, SourceError]]:
    for loc, name, lang, text in _walk_texts(loaded):
        if name == "alt" and not text.strip():
            yield "img-alt", _err(loaded, loc + (lang,), "the alt text is empty: screen readers skip "
                                  "the image (right for a decoration; otherwise say what it shows)")
