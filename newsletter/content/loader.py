"""Read an edition folder into a validated Edition, with every mistake located in the
editor's own file. All errors in all files are collected, then raised together."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel, ValidationError

from newsletter.core.config import Workspace
from newsletter.core.errors import SourceError, ValidationFailed
from newsletter.core.validation import errors_from_pydantic, suggest
from newsletter.core.yamlsrc import Loc, SourceMap, format_loc, load_front_matter, load_yaml
from newsletter.content import markdown, merge, translations
from newsletter.content.model import ANY_LANG, Edition, check_url, text_marker

log = logging.getLogger(__name__)
EDITION_FILE = "edition.yaml"


@dataclass
class LoadedEdition:
    """A validated edition and where it came from."""

    name: str
    folder: Path
    file: Path
    edition: Edition
    smap: SourceMap
    default_language: str
    warnings: list[SourceError] = field(default_factory=list)
    translation_warnings: list[SourceError] = field(default_factory=list)  # unused entries
    # (field loc, language) -> state of that translation (content.translations)
    translation_states: dict[tuple[Loc, str], translations.TranslationState] = field(default_factory=dict)

    def image_file(self, ref: str) -> Path | None:
        """The local file an image reference names, or None for an absolute URL."""
        if ref.lower().startswith(("http://", "https://")):
            return None
        return (self.folder / ref).resolve()

    def sources(self) -> list[Path]:
        """Every file this edition was read from (for live reload)."""
        return sorted({pos.path for pos in self.smap.positions.values()})


def edition_names(ws: Workspace) -> list[str]:
    return [n for n in ws.editions() if (ws.issues_dir / n / EDITION_FILE).is_file()]


def load_edition(ws: Workspace, name: str, segments: set[str] | None = None) -> LoadedEdition:
    loaded, errors = _load(ws, name, segments)
    if errors or loaded is None:
        raise ValidationFailed(errors)
    return loaded


def load_editions(ws: Workspace, names: list[str], segments: set[str] | None = None) -> list[LoadedEdition]:
    """Load several editions; raise once with the errors of all of them."""
    out, errors = [], []
    for name in names:
        loaded, errs = _load(ws, name, segments)
        errors += errs
        if loaded is not None:
            out.append(loaded)
    if errors:
        raise ValidationFailed(errors)
    return out


def resolve_name(ws: Workspace, name: str) -> str:
    """Accept 'issues/2026-11', '2026-11/' or a path to edition.yaml as well as '2026-11'."""
    path = Path(name)
    if path.name == EDITION_FILE:
        path = path.parent
    return path.name if path.name else name


def _load(ws: Workspace, name: str, segments: set[str] | None) -> tuple[LoadedEdition | None, list[SourceError]]:
    name = resolve_name(ws, name)
    folder = ws.issues_dir / name
    file = folder / EDITION_FILE
    if not file.is_file():
        known = edition_names(ws)
        hint = suggest(name, known) or (f"; editions: {', '.join(known)}" if known else "")
        return None, [SourceError(file, None, None, f"no edition {name!r}{hint}")]
    try:
        data, smap = load_yaml(file)
    except SourceError as err:
        return None, [err]
    if not isinstance(data, dict):
        return None, [smap.error((), "expected a mapping with number, date, languages, subject and blocks", "")]
    errors = _include_files(data, smap, folder, ws.settings.languages.default)
    source_lang = _source_language(ws, data)
    entries, more = translations.read_entries(folder, _languages(data), smap)
    errors += more
    unused = translations.merge(data, smap, entries, source_lang)
    try:
        edition = Edition.model_validate(data)
    except ValidationError as exc:
        return None, errors + errors_from_pydantic(exc, smap, Edition, data)
    if errors:
        return None, errors
    default = ws.settings.languages.default
    if default not in edition.languages:
        default = edition.languages[0]
    loaded = LoadedEdition(name, folder, file, edition, smap, default)
    loaded.translation_warnings = unused
    texts = {loc: value for loc, _n, info, value in walk(edition) if value and text_marker(info)}
    loaded.translation_states = translations.states(entries, texts, default)
    errors = Checker(ws, loaded, segments).run()
    return (None, errors) if errors else (loaded, [])


def _languages(data: dict) -> list[str]:
    langs = data.get("languages")
    return [lang for lang in langs if isinstance(lang, str)] if isinstance(langs, list) else []


def _source_language(ws: Workspace, data: dict) -> str:
    """The edition's default language (the one translations are made from), before validation."""
    langs = _languages(data)
    default = ws.settings.languages.default
    return default if default in langs or not langs else langs[0]


def _include_files(data: dict, smap: SourceMap, folder: Path, default_lang: str) -> list[SourceError]:
    """A block ``{file: articles/x.md}`` takes its keys from the file's front matter and its
    body from the Markdown; ``x.<lang>.md`` beside it gives that language's texts."""
    errors: list[SourceError] = []
    blocks = data.get("blocks")
    if not isinstance(blocks, list):
        return errors
    for i, block in enumerate(blocks):
        if not (isinstance(block, dict) and "file" in block):
            continue
        ref = block.pop("file")
        loc: Loc = ("blocks", i)
        path = (folder / str(ref)).resolve()
        if not isinstance(ref, str) or not path.is_file() or folder.resolve() not in path.parents:
            errors.append(smap.error(loc + ("file",), f"no Markdown file {ref!r} in {folder.name}/", format_loc(loc + ("file",))))
            continue
        try:
            merged = _read_block_file(path, loc, smap, default_lang)
        except SourceError as err:
            errors.append(err)
            continue
        blocks[i] = {**merged, **block}
    return errors


def _read_block_file(path: Path, loc: Loc, smap: SourceMap, default_lang: str) -> dict[str, Any]:
    meta, fsmap, body, body_line = load_front_matter(path)
    smap.graft(loc, fsmap)
    if body.strip():
        meta["body"] = {default_lang: body}
        _mark_body(smap, loc, default_lang, fsmap, body_line)
    for tr in sorted(path.parent.glob(f"{path.stem}.*{path.suffix}")):
        lang = tr.name[len(path.stem) + 1: -len(path.suffix)]
        tmeta, tsmap, tbody, tline = load_front_matter(tr)
        for key, value in tmeta.items():
            base = meta.get(key)
            meta[key] = {**(base if isinstance(base, dict) else {default_lang: base} if base else {}), lang: value}
            pos = tsmap.positions.get((key,))
            if pos:
                smap.positions[loc + (key, lang)] = pos
                smap.text_starts[loc + (key, lang)] = tsmap.text_starts.get((key,), pos)
        if tbody.strip():
            body_map = meta.get("body") if isinstance(meta.get("body"), dict) else {}
            meta["body"] = {**body_map, lang: tbody}
            _mark_body(smap, loc, lang, tsmap, tline)
    return meta


def _mark_body(smap: SourceMap, loc: Loc, lang: str, fsmap: SourceMap, body_line: int) -> None:
    from newsletter.core.yamlsrc import Pos

    pos = Pos(fsmap.path, body_line, 1)
    smap.positions[loc + ("body", lang)] = pos
    smap.text_starts[loc + ("body", lang)] = pos
    smap.positions.setdefault(loc + ("body",), pos)
    smap.texts.update(fsmap.texts)


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


class Checker:
    """Checks that need more than the schema: languages, segments, files, links, merge fields."""

    def __init__(self, ws: Workspace, loaded: LoadedEdition, segments: set[str] | None):
        self.ws, self.loaded, self.segments = ws, loaded, segments
        self.smap = loaded.smap
        self.errors: list[SourceError] = []
        self.langs = set(loaded.edition.languages)

    def run(self) -> list[SourceError]:
        available = set(self.ws.settings.languages.available)
        for i, lang in enumerate(self.loaded.edition.languages):
            if lang not in available:
                self._err(("languages", i), f"language {lang!r} is not declared in newsletter.yaml "
                          f"(languages.available: {', '.join(sorted(available))})")
        for loc, name, info, value in walk(self.loaded.edition):
            if value is None:
                continue
            marker = text_marker(info)
            if marker is not None:
                self._text(loc, value, marker.markdown)
            elif name == "audience":
                self._audience(loc, value)
            elif name in ("image", "src"):
                self._image(loc, value)
        return self.errors

    def _err(self, loc: Loc, message: str, pos: Any = None) -> None:
        shown = loc[:-1] if loc and loc[-1] == ANY_LANG else loc
        self.errors.append(self.smap.error(loc, message, format_loc(shown), pos=pos))

    def _audience(self, loc: Loc, value: str) -> None:
        # The segment names come from the caller (``subscribers.segments.segment_names``):
        # content does not read subscriber settings. None: the caller checks audiences itself.
        if self.segments is not None and value not in self.segments:
            hint = suggest(value, self.segments) or f"; segments: {', '.join(sorted(self.segments))}"
            self._err(loc, f"unknown segment {value!r}{hint}")

    def _image(self, loc: Loc, ref: str) -> None:
        path = self.loaded.image_file(ref)
        if path is None:
            try:
                check_url(ref)
            except ValueError as exc:
                self._err(loc, str(exc))
            return
        folder = self.loaded.folder.resolve()
        if folder not in path.parents:
            self._err(loc, f"image {ref!r} is outside the edition folder")
        elif not path.is_file():
            self._err(loc, f"image file {ref!r} not found in {self.loaded.folder.name}/")

    def _text(self, loc: Loc, value: dict[str, str], is_markdown: bool) -> None:
        for lang, text in value.items():
            tloc = loc + (lang,)
            if lang != ANY_LANG and lang not in self.langs:
                self._err(tloc, f"language {lang!r} is not one of this edition's languages "
                          f"({', '.join(self.loaded.edition.languages)})")
            try:
                merge.parse(text, self.ws.settings.merge_attributes)
            except merge.MergeSyntaxError as exc:
                self._err(tloc, str(exc), self.smap.text_pos(tloc, text, exc.offset))
            if is_markdown:
                self._markdown(tloc, text)

    def _markdown(self, loc: Loc, text: str) -> None:
        for problem in markdown.problems(text, self.loaded.image_file):
            pos = self.smap.text_pos(loc, text, problem.offset)
            if problem.warning:
                shown = loc[:-1] if loc[-1] == ANY_LANG else loc
                self.loaded.warnings.append(self.smap.error(loc, problem.message, format_loc(shown), pos=pos))
            else:
                self._err(loc, problem.message, pos)
