"""Translation files: ``issues/<edition>/translations/<lang>.yaml``, merged by the loader.

``newsletter translate import`` writes them (editors and translators may also edit them by
hand); the editor's own ``edition.yaml`` is never rewritten, so its comments and layout stay as
they are. Each entry names a field the way ``newsletter check`` shows it, the translated text, and
the fingerprint of the source-language text it was translated from::

    blocks[2].title:
      text: Termine
      source: 1f3a9c0b27d4

A translation file wins over a text for the same language written in edition.yaml.
Every translation then has a state: *current* (its fingerprint matches today's source text),
*stale* (the source text changed after it was translated) or *unknown* (written in
edition.yaml or in an ``x.<lang>.md`` file, before fingerprints existed: never shown as stale).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal

from newsletter.core.errors import SourceError
from newsletter.core.yamlsrc import Loc, Pos, SourceMap, format_loc, load_yaml

TRANSLATIONS_DIR = "translations"
State = Literal["current", "stale", "unknown"]
_FIELD = re.compile(r"[A-Za-z_]\w*(?:\[\d+\]|\.[A-Za-z_]\w*)*", re.ASCII)
_STEP = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]", re.ASCII)
_ENTRY_KEYS = ("text", "source")


def fingerprint(text: str) -> str:
    """A short, stable fingerprint of a source text. Line-end spaces, the line-end style and the
    Unicode normal form do not count: re-saving a file in another editor changes none of them."""
    norm = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    norm = "\n".join(line.rstrip() for line in norm.strip().split("\n"))
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:12]


def parse_field(path: str) -> Loc | None:
    """``blocks[2].events[0].title`` -> ("blocks", 2, "events", 0, "title"); None if malformed."""
    if not _FIELD.fullmatch(path):
        return None
    return tuple(name if name else int(index) for name, index in _STEP.findall(path))


@dataclass(frozen=True)
class Entry:
    """One translated text read from a translation file."""

    field: str
    loc: Loc
    language: str
    text: str
    source: str | None      # fingerprint of the source text it was made from
    pos: Pos                # where the text stands
    block: bool = False     # written as a '|' block scalar (positions inside count its indent)


def translation_file(folder: Path, language: str) -> Path:
    return folder / TRANSLATIONS_DIR / f"{language}.yaml"


def read_entries(folder: Path, languages: Iterable[str], smap: SourceMap) -> tuple[list[Entry], list[SourceError]]:
    """The entries of every language's translation file (languages without one have none).
    Positions are added to ``smap`` so that later errors in a translated text point into it."""
    entries: list[Entry] = []
    errors: list[SourceError] = []
    for lang in languages:
        path = translation_file(folder, lang)
        if not path.is_file():
            continue
        if folder.resolve() not in path.resolve().parents:
            errors.append(SourceError(path, None, None, "a translation file must be inside the edition folder"))
            continue
        try:
            data, tsmap = load_yaml(path)
        except SourceError as err:
            errors.append(err)
            continue
        smap.texts.update(tsmap.texts)
        found, errs = _entries(data, tsmap, lang)
        entries += found
        errors += errs
    return entries, errors


def _entries(data: Any, tsmap: SourceMap, lang: str) -> tuple[list[Entry], list[SourceError]]:
    if data is None:
        return [], []
    if not isinstance(data, dict):
        return [], [tsmap.error((), "expected a mapping of fields (such as 'blocks[0].title') to "
                                "entries with 'text' and 'source'", "")]
    out, errors = [], []
    for key, value in data.items():
        loc = parse_field(key)
        if loc is None:
            errors.append(tsmap.error((key,), f"{key!r} is not a field name like 'subject' or 'blocks[2].title'", key))
            continue
        if isinstance(value, str):
            value = {"text": value}
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            errors.append(tsmap.error((key,), "expected 'text:' (the translation) and 'source:' (the "
                                      "fingerprint of the text it translates)", key))
            continue
        unknown = [k for k in value if k not in _ENTRY_KEYS]
        if unknown:
            errors.append(tsmap.error((key, unknown[0]), f"unknown key {unknown[0]!r}; expected one of: "
                                      f"{', '.join(_ENTRY_KEYS)}", f"{key}.{unknown[0]}"))
            continue
        source = value.get("source")
        pos = tsmap.text_starts.get((key, "text")) or tsmap.lookup((key, "text"))
        out.append(Entry(key, loc, lang, value["text"], source if isinstance(source, str) else None, pos,
                         (key, "text") in tsmap.block_texts))
    return out, errors


def merge(data: dict[str, Any], smap: SourceMap, entries: list[Entry], default_lang: str) -> list[SourceError]:
    """Put every entry's text into the edition data; returns a warning for each entry whose
    field the edition does not have (any more)."""
    warnings = []
    for entry in entries:
        parent = _parent(data, entry.loc)
        key = entry.loc[-1]
        if parent is None or (isinstance(parent, dict) and key not in parent):
            warnings.append(SourceError(entry.pos.path, entry.pos.line, entry.pos.column,
                                        f"the edition has no field {entry.field} (was the block moved or "
                                        "removed?); this translation is not used", field=entry.field))
            continue
        value = parent[key]
        if isinstance(value, str):
            value = {"*": value}
        if not isinstance(value, dict):
            warnings.append(SourceError(entry.pos.path, entry.pos.line, entry.pos.column,
                                        f"{entry.field} is not a text", field=entry.field))
            continue
        if "*" in value:  # the same text in every language until now
            value = {default_lang: value["*"], **{k: v for k, v in value.items() if k != "*"}}
        parent[key] = {**value, entry.language: entry.text}
        target = entry.loc + (entry.language,)
        smap.positions[target] = entry.pos
        smap.text_starts[target] = entry.pos
        if entry.block:
            smap.block_texts.add(target)
    return warnings


def _parent(data: Any, loc: Loc) -> Any:
    node = data
    for step in loc[:-1]:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return None
    return node if isinstance(node, (dict, list)) else None


@dataclass(frozen=True)
class TranslationState:
    field: str
    language: str
    state: State
    pos: Pos | None


def states(entries: list[Entry], texts: dict[Loc, dict[str, str]], default_lang: str) -> dict[tuple[Loc, str], TranslationState]:
    """The state of every translation: from the files' fingerprints, else 'unknown' for a
    text written per language in the edition itself."""
    out: dict[tuple[Loc, str], TranslationState] = {}
    for loc, value in texts.items():
        for lang in value:
            if lang not in ("*", default_lang):
                out[(loc, lang)] = TranslationState(format_loc(loc), lang, "unknown", None)
    for entry in entries:
        value = texts.get(entry.loc)
        if value is None:
            continue
        source = value.get(default_lang, value.get("*", ""))
        state: State = "unknown" if entry.source is None else (
            "current" if entry.source == fingerprint(source) else "stale")
        out[(entry.loc, entry.language)] = TranslationState(entry.field, entry.language, state, entry.pos)
    return out


def dump(entries: list[tuple[str, str, str]], header: str) -> str:
    """A translation file's text: ``entries`` are (field, text, source fingerprint), written in
    the order given, multi-line texts as YAML block scalars so that they read like the edition."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for field, text, source in entries:
        lines.append(f"{field}:")
        lines.append(f"  text: {_scalar(text)}")
        lines.append(f"  source: {source}")
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> str:
    """A YAML scalar that reads back as exactly ``text`` with our loader (every plain scalar a
    string): a block scalar for multi-line texts, else a double-quoted string."""
    if "\n" in text.rstrip("\n") and _block_safe(text):
        chomp = "" if text.endswith("\n") and not text.endswith("\n\n") else ("-" if not text.endswith("\n") else "+")
        body = "\n".join(("    " + line) if line else "" for line in text.rstrip("\n").split("\n"))
        return f"|{chomp}\n{body}"
    return yaml_quoted(text)


def _block_safe(text: str) -> bool:
    lines = text.rstrip("\n").split("\n")
    return (not lines[0].startswith(" ") and all(line == line.rstrip() for line in lines)
            and all(ch == "\n" or (ch.isprintable() and ch != "\ufeff") for ch in text))


def yaml_quoted(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable() or ch in "\u2028\u2029\ufeff\x85":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
