"""The theme: Jinja2 templates that write MJML (HTML side) and plain text.

A workspace's own ``templates/`` folder comes first and the default theme second (a Jinja
``ChoiceLoader``), so an organisation restyles by copying one file of the default theme into
its workspace and changing it; every file it does not copy still comes from the default theme.

The default theme is the repository's ``templates/`` folder, reached from the installed package
through the ``newsletter/theme`` symlink (packaged as package data).
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import jinja2
from jinja2 import (BaseLoader, BytecodeCache, ChoiceLoader, Environment, FileSystemBytecodeCache,
                    FileSystemLoader, StrictUndefined)

from newsletter.core.files import display_path
from newsletter.core.config import Workspace
from newsletter.core.errors import SourceError, ValidationFailed
from newsletter.core.yamlsrc import load_yaml, read_text

log = logging.getLogger(__name__)

THEME_DIR = Path(__file__).resolve().parent.parent / "theme"
STRINGS_FILE = "strings.yaml"
FALLBACK_LANGUAGE = "en"
# Markers placed at line ends by the tracing loader: \x02<file number>:<line>\x03 (control
# characters that are not whitespace, so that Jinja's whitespace control leaves them alone).
MARKER_RE = re.compile("\x02(\\d+):(\\d+)\x03")
_JINJA_SYNTAX = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\n", re.S)


def theme_dir() -> Path:
    """The default theme folder: the package's ``theme`` (a symlink to the repository's
    templates/ in a checkout, real files in an installed wheel). Where symlinks are not
    supported (a Windows checkout makes it a small text file), the checkout's templates/."""
    if THEME_DIR.is_dir():
        return THEME_DIR
    return THEME_DIR.parent.parent / "templates"


class _BytecodeCache(BytecodeCache):
    """Compiled templates kept in memory (the preview re-renders on every save) and in Jinja's
    per-user cache folder (each `newsletter build` is a new process; compiling the theme takes
    longer than rendering an edition with it). Buckets are keyed by template file and checked
    against a checksum of the source, so an edited template is always recompiled."""

    def __init__(self) -> None:
        self._memory: dict[str, bytes] = {}
        try:
            self._disk: FileSystemBytecodeCache | None = FileSystemBytecodeCache()
        except (OSError, RuntimeError) as exc:  # no usable temp folder: memory only
            log.debug("no on-disk template cache: %s", exc)
            self._disk = None

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._memory.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)
        elif self._disk is not None:
            try:
                self._disk.load_bytecode(bucket)
            except (OSError, ValueError, EOFError):
                bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._memory[bucket.key] = bucket.bytecode_to_string()
        if self._disk is not None:
            try:
                self._disk.dump_bytecode(bucket)
            except OSError as exc:
                log.debug("cannot write the template cache: %s", exc)


_BYTECODE = _BytecodeCache()


class TracingLoader(BaseLoader):
    """Wraps a loader and marks the end of every template line (outside Jinja tags) with its
    file and line, so that a place in the generated MJML can be traced back to a template."""

    def __init__(self, inner: BaseLoader):
        self.inner = inner
        self.files: list[str] = []

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = self.inner.get_source(environment, template)
        number = len(self.files)
        self.files.append(filename or template)
        return _mark_lines(source, number), filename, uptodate


def _mark_lines(source: str, number: int) -> str:
    out, line, last = [], 1, 0
    for match in _JINJA_SYNTAX.finditer(source):
        if match.group(0) == "\n":
            out.append(source[last:match.start()] + f"\x02{number}:{line}\x03\n")
            last = match.end()
            line += 1
        else:
            line += match.group(0).count("\n")
    out.append(source[last:])
    return "".join(out)


def loader_for(ws: Workspace) -> ChoiceLoader:
    """The workspace's templates first, the default theme second."""
    return ChoiceLoader([FileSystemLoader(str(ws.templates_dir)), FileSystemLoader(str(theme_dir()))])


def environment(ws: Workspace, trace: bool = False) -> Environment:
    """One environment for both sides: autoescape for MJML templates, none for text ones."""
    loader: BaseLoader = loader_for(ws)
    if trace:
        loader = TracingLoader(loader)
    env = Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(enabled_extensions=("mjml.j2", "mjml", "html"),
                                            disabled_extensions=("txt.j2", "txt"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        bytecode_cache=None if trace else _BYTECODE,
    )
    return env


def strings(ws: Workspace, language: str) -> SimpleNamespace:
    """The words the theme prints, in ``language``: the default theme's strings.yaml, then
    the workspace's strings.yaml over it key by key; English fills any gap."""
    table: dict[str, dict[str, Any]] = {}
    for path in (theme_dir() / STRINGS_FILE, ws.templates_dir / STRINGS_FILE):
        if path.is_file():
            for lang, words in _read_strings(path).items():
                table.setdefault(lang, {}).update(words)
    base = table.get(FALLBACK_LANGUAGE, {})
    primary = language.split("-")[0]
    words = {**base, **table.get(primary, {}), **table.get(language, {})}
    return SimpleNamespace(**words)


_STRINGS_CACHE: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}


def _read_strings(path: Path) -> dict[str, dict[str, Any]]:
    """A strings file, parsed once per content (YAML parsing is the slow part of a render)."""
    try:
        text = read_text(path)
    except SourceError as err:
        raise ValidationFailed([err]) from None
    key = (str(path), text)
    if key not in _STRINGS_CACHE:
        if len(_STRINGS_CACHE) > 32:  # edited again and again in a long preview session
            _STRINGS_CACHE.clear()
        _STRINGS_CACHE[key] = _parse_strings(path, text)
    return _STRINGS_CACHE[key]


def _parse_strings(path: Path, text: str) -> dict[str, dict[str, Any]]:
    try:
        data, smap = load_yaml(path, text)
    except SourceError as err:
        raise ValidationFailed([err]) from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValidationFailed([smap.error((), "expected one mapping of words per language code "
                                                "(en: {read_more: Read more, ...})", "")])
    errors = [smap.error((lang, key), problem) for lang, words in data.items()
              for key, value in words.items() if (problem := _bad_word(key, value))]
    if errors:
        raise ValidationFailed(errors)
    return data


_LISTS = {"months": 12, "months_short": 12, "weekdays": 7}


def _bad_word(key: str, value: Any) -> str | None:
    """What is wrong with one entry of a strings file, if anything."""
    if key in _LISTS:
        if not (isinstance(value, list) and len(value) == _LISTS[key] and all(isinstance(v, str) for v in value)):
            return f"expected a list of {_LISTS[key]} names"
        return None
    if not isinstance(value, str):
        return f"expected a text, got {type(value).__name__}"
    if key == "date_format":
        try:
            value.format(weekday="", day="", month="", year="")
        except (KeyError, IndexError, ValueError) as exc:
            return f"expected a pattern using {{weekday}}, {{day}}, {{month}} and {{year}}; {exc!s} is not one"
    return None


def template_label(ws: Workspace, filename: str) -> str:
    """A template's file name as a person finds it: relative to the workspace when it is
    the workspace's own, else the default theme's path."""
    return display_path(Path(filename).resolve(), ws.root)
