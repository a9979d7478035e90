"""Read an edition folder into a validated Edition, with every mistake located in the
editor's own file. All errors in all files are collected, then raised together."""
from __future__ import annotations

import glob
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from pydantic import ValidationError

from newsletter.core.config import Workspace
from newsletter.core.errors import SourceError, ValidationFailed
from newsletter.core.validation import errors_from_pydantic, suggest
from newsletter.core.yamlsrc import Loc, SourceMap, format_loc, load_front_matter, load_yaml
from newsletter.content import editorial, images, markdown, merge, translations
from newsletter.content.model import ANY_LANG, Edition, check_url, is_url_field, text_marker, walk

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
    notes: list[tuple[str, SourceError]] = field(default_factory=list)  # (code, warning): content.editorial
    translation_warnings: list[SourceError] = field(default_factory=list)  # unused entries
    # (field loc, language) -> state of that translation (content.translations)
    translation_states: dict[tuple[Loc, str], translations.TranslationState] = field(default_factory=dict)

    def image_file(self, ref: str) -> Path | None:
        """The local file an image reference names, or None for an absolute URL."""
        if ref.lower().startswith(("http://", "https://")):
            return None
        return (self.folder / ref).resolve()

    def image_problem(self, ref: str) -> str | None:
        """What is wrong with an image reference (None: nothing): an absolute URL must be
        http(s); a file must be a non-empty file inside the edition folder, in a format mail
        clients show (content/images.py)."""
        if self.image_file(ref) is None:
            try:
                check_url(ref)
            except ValueError as exc:
                return str(exc)
            return None
        problem = confinement_problem(self.folder, self.folder / ref)
        if problem:
            return f"image {'file ' if 'not found' in problem else ''}{ref!r} {problem}"
        if (self.folder / ref).stat().st_size == 0:
            return f"image file {ref!r} is empty (0 bytes); copy it again"
        try:  # what no mail client shows: SVG, HEIC, WebP..., a text file named .jpg, a cut download
            images.inspect(self.folder / ref)
        except images.ImageRefused as exc:
            return f"image {ref!r}: {exc}"
        return None

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
    problem = editorial.folder_problem(name)
    if problem:
        return None, [SourceError(file, None, None, problem)]
    try:
        data, smap = load_yaml(file)
    except SourceError as err:
        return None, [err]
    if not isinstance(data, dict):
        return None, [smap.error((), "expected a mapping with number, date, languages, subject and blocks", "")]
    errors, failed = _include_files(data, smap, folder, ws.settings.languages.default)
    source_lang = _source_language(ws, data)
    entries, more = translations.read_entries(folder, _languages(data), smap)
    errors += more
    unused = translations.merge(data, smap, entries, source_lang)
    try:
        edition = Edition.model_validate(data)
    except ValidationError as exc:
        # A block whose file could not be read has no keys: its schema errors would only
        # echo the real one ("missing 'type'"), pointing away from the broken file.
        return None, errors + [e for e in errors_from_pydantic(exc, smap, Edition, data)
                               if not any(_within(e.field, f"blocks[{i}]") for i in failed)]
    if errors:
        return None, errors
    default = ws.settings.languages.default
    if default not in edition.languages:
        default = edition.languages[0]
    loaded = LoadedEdition(name, folder, file, edition, smap, default)
    loaded.translation_warnings = unused
    texts = {loc: value for loc, _n, info, value in walk(edition) if value and text_marker(info)}
    loaded.translation_states = translations.states(entries, texts, default)
    others = list(_other_editions(ws, name))
    errors = Checker(ws, loaded, segments).run() + editorial.errors(loaded, others)
    loaded.notes = editorial.notes(loaded, others)
    return (None, errors) if errors else (loaded, [])


def _other_editions(ws: Workspace, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, raw data) of every other edition whose edition.yaml can be read (for the checks
    across editions: numbers, the previous edition's subject)."""
    for other in edition_names(ws):
        if other == name:
            continue
        try:
            data, _ = load_yaml(ws.issues_dir / other / EDITION_FILE)
        except SourceError:   # that edition's own check reports it
            continue
        if isinstance(data, dict):
            yield other, data


def _within(field_path: str, prefix: str) -> bool:
    return field_path == prefix or field_path.startswith((prefix + ".", prefix + "["))


def _languages(data: dict) -> list[str]:
    langs = data.get("languages")
    return [lang for lang in langs if isinstance(lang, str)] if isinstance(langs, list) else []


def _source_language(ws: Workspace, data: dict) -> str:
    """The edition's default language (the one translations are made from), before validation."""
    langs = _languages(data)
    default = ws.settings.languages.default
    return default if default in langs or not langs else langs[0]


def _include_files(data: dict, smap: SourceMap, folder: Path,
                   default_lang: str) -> tuple[list[SourceError], set[int]]:
    """A block ``{file: articles/x.md}`` takes its keys from the file's front matter and its
    body from the Markdown; ``x.<lang>.md`` beside it gives that language's texts.
    Returns the errors and the indexes of the blocks that could not be read."""
    errors: list[SourceError] = []
    failed: set[int] = set()
    blocks = data.get("blocks")
    if not isinstance(blocks, list):
        return errors, failed
    for i, block in enumerate(blocks):
        if not (isinstance(block, dict) and "file" in block):
            continue
        ref = block.pop("file")
        loc: Loc = ("blocks", i)
        floc = loc + ("file",)
        problem = confinement_problem(folder, folder / str(ref)) if isinstance(ref, str) else "is not a file name"
        if problem:
            errors.append(smap.error(floc, f"Markdown file {ref!r} {problem}", format_loc(floc)))
            failed.add(i)
            continue
        try:
            merged, tr_errors = _read_block_file(folder, (folder / str(ref)).resolve(), loc, smap, default_lang)
        except SourceError as err:
            errors.append(err)
            failed.add(i)
            continue
        if tr_errors:
            errors += [smap.error(floc, message, format_loc(floc)) for message in tr_errors]
            failed.add(i)
            continue
        blocks[i] = {**merged, **block}
    return errors, failed


def confinement_problem(folder: Path, path: Path) -> str | None:
    """Why ``path`` may not be read as part of the edition in ``folder`` (None: it may).
    Paths are resolved first, so a symbolic link (or '..') that leads out of the folder is
    refused like any other file outside it: an edition is published, and nothing outside its
    folder (a system file, another workspace's secrets) may end up in an email."""
    root = folder.resolve()
    resolved = path.resolve()
    if root not in resolved.parents:
        via = " through a symbolic link" if path.is_symlink() else ""
        return f"leads outside the edition folder{via}; copy the file into {folder.name}/"
    if not resolved.is_file():
        return f"not found in {folder.name}/"
    return None


def _read_block_file(folder: Path, path: Path, loc: Loc, smap: SourceMap,
                     default_lang: str) -> tuple[dict[str, Any], list[str]]:
    """The block's keys and texts, and the problems of translation files found beside it."""
    meta, fsmap, body, body_line = load_front_matter(path)
    smap.graft(loc, fsmap)
    if body.strip():
        meta["body"] = {default_lang: body}
        _mark_body(smap, loc, default_lang, fsmap, body_line)
    problems = []
    for tr in sorted(path.parent.glob(f"{glob.escape(path.stem)}.*{path.suffix}")):
        lang = tr.name[len(path.stem) + 1: -len(path.suffix)]
        problem = confinement_problem(folder, tr)
        if problem:
            problems.append(f"translation {tr.name!r} {problem}")
            continue
        tmeta, tsmap, tbody, tline = load_front_matter(tr.resolve())
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
    return meta, problems


def _mark_body(smap: SourceMap, loc: Loc, lang: str, fsmap: SourceMap, body_line: int) -> None:
    from newsletter.core.yamlsrc import Pos

    pos = Pos(fsmap.path, body_line, 1)
    smap.positions[loc + ("body", lang)] = pos
    smap.text_starts[loc + ("body", lang)] = pos
    smap.positions.setdefault(loc + ("body",), pos)
    smap.texts.update(fsmap.texts)


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
            elif is_url_field(info):
                self._link(loc, value)
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
        problem = self.loaded.image_problem(ref)
        if problem:
            self._err(loc, problem)

    def _text(self, loc: Loc, value: dict[str, str], is_markdown: bool) -> None:
        for lang, text in value.items():
            tloc = loc + (lang,)
            if lang != ANY_LANG and lang not in self.langs:
                self._err(tloc, f"language {lang!r} is not one of this edition's languages "
                          f"({', '.join(self.loaded.edition.languages)})")
            fields = self._merge_fields(tloc, text)
            if is_markdown and fields is not None:
                self._markdown(tloc, text, fields)

    def _merge_fields(self, loc: Loc, text: str) -> list[merge.MergeField] | None:
        """The merge fields of ``text``; None (and errors) when it has foreign or broken ones."""
        foreign = merge.foreign_tags(text, self.ws.settings.merge_attributes)
        for tag in foreign:
            self._err(loc, tag.message(), self.smap.text_pos(loc, text, tag.offset))
        if foreign:
            return None
        try:
            return merge.parse(text, self.ws.settings.merge_attributes)
        except merge.MergeSyntaxError as exc:
            self._err(loc, str(exc), self.smap.text_pos(loc, text, exc.offset))
            return None

    def _link(self, loc: Loc, url: str) -> None:
        """A link field holding merge fields: with every field at its default it must be a
        link (a recipient's values are checked again when composing; see content.merge)."""
        fields = self._merge_fields(loc, url)
        if not fields:
            return
        filled = merge.fill_defaults_in_url(url, fields)
        problem = merge.url_problem(filled)
        if problem:
            self._err(loc, f"{problem}{markdown._DEFAULT_HINT if fields[0].start == 0 else ''}")

    def _markdown(self, loc: Loc, text: str, fields: list[merge.MergeField]) -> None:
        # Rendering replaces merge fields by placeholders before Markdown sees the text, so
        # the text is checked the same way: '[a]({{ attributes.site or "https://..." }})' is a
        # link there (with spaces it would not be one in the raw text).
        tokenized, where = merge.checking_text(text, fields)
        for problem in markdown.problems(tokenized, self.loaded.image_problem, where.expand):
            pos = self.smap.text_pos(loc, text, where.original(problem.offset))
            if problem.warning:
                shown = loc[:-1] if loc[-1] == ANY_LANG else loc
                self.loaded.warnings.append(self.smap.error(loc, problem.message, format_loc(shown), pos=pos))
            else:
                self._err(loc, problem.message, pos)
