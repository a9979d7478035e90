"""Safe YAML for editors: every value keeps the file, line and column it came from.

Why not ``yaml.safe_load``: YAML 1.1 turns ``NO`` into ``false`` and ``1.10`` into ``1.1``.
Here every plain scalar stays the string the editor typed and the pydantic schema decides
its type; only an empty value (or ``~``/``null``) becomes ``None``. Anchors and aliases are
refused (alias bombs), so are custom tags, merge keys, duplicate keys and files over 1 MB.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from newsletter.core.errors import SourceError

MAX_BYTES = 1_000_000
# An edition nests about eight levels deep (blocks > block > events > event > title > language);
# far deeper is a mistake or an attack: PyYAML's composer recurses once per level (a
# RecursionError at ~1,000, a crash of the interpreter further down), so depth is counted in
# libyaml's event stream, which is not recursive and stops at the first level too deep.
MAX_DEPTH = 32
_NULLS = {"", "~", "null", "Null", "NULL"}
_STANDARD_TAG = "tag:yaml.org,2002:"

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Pos:
    """Where a value (or, for a mapping entry, its key) stands: file, 1-based line and column."""

    path: Path
    line: int
    column: int


@dataclass
class SourceMap:
    """Maps a value's path in the loaded data to the place the editor wrote it."""

    path: Path
    text: str = ""
    positions: dict[Loc, Pos] = field(default_factory=dict)
    texts: dict[Path, str] = field(default_factory=dict)
    # Where the first character of a text value stands (the line after '|' for block scalars),
    # so that a mistake inside a Markdown text can be reported at its own line.
    text_starts: dict[Loc, Pos] = field(default_factory=dict)
    block_texts: set[Loc] = field(default_factory=set)  # '|' or '>' texts: every line indented alike

    def __post_init__(self) -> None:
        self.texts.setdefault(self.path, self.text)

    def lookup(self, loc: Loc) -> Pos:
        """The position of ``loc``, or of its nearest ancestor that has one."""
        for end in range(len(loc), -1, -1):
            pos = self.positions.get(tuple(loc[:end]))
            if pos is not None:
                return pos
        return Pos(self.path, 1, 1)

    def graft(self, prefix: Loc, other: "SourceMap") -> None:
        """Take the positions of another file's data, placed under ``prefix`` in this data."""
        for loc, pos in other.positions.items():
            self.positions[tuple(prefix) + loc] = pos
        for loc, pos in other.text_starts.items():
            self.text_starts[tuple(prefix) + loc] = pos
        self.block_texts.update(tuple(prefix) + loc for loc in other.block_texts)
        self.texts.update(other.texts)

    def error(self, loc: Loc, message: str, field_path: str | None = None,
              pos: Pos | None = None) -> SourceError:
        pos = pos or self.lookup(loc)
        return SourceError(
            pos.path, pos.line, pos.column, message,
            field=format_loc(loc) if field_path is None else field_path,
            source_line=self.source_line(pos),
        )

    def text_pos(self, loc: Loc, text: str, offset: int) -> Pos:
        """The position of character ``offset`` of the text value at ``loc``."""
        start = self.text_starts.get(loc) or self.text_starts.get(loc[:-1])
        if start is None:
            return self.lookup(loc)
        before = text[:offset]
        lines = before.count("\n")
        if lines == 0:
            return Pos(start.path, start.line, start.column + len(before))
        indent = start.column - 1 if loc in self.block_texts or loc[:-1] in self.block_texts else 0
        return Pos(start.path, start.line + lines, indent + len(before) - before.rfind("\n"))

    def source_line(self, pos: Pos) -> str | None:
        text = self.texts.get(pos.path)
        if text is None:
            return None
        lines = text.splitlines()
        return lines[pos.line - 1] if 0 < pos.line <= len(lines) else None


def format_loc(loc: Loc) -> str:
    """('blocks', 2, 'audience') -> 'blocks[2].audience'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# libyaml's C parser where PyYAML was built with it: about 20x faster than the pure-Python one,
# which matters for the preview's refresh on every save.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _screen(text: str) -> None:
    """Refuse aliases, anchors, custom tags and deep nesting from the event stream, before any
    node is composed, so an alias bomb is never expanded and the composer never recurses deep."""
    depth = 0
    for event in yaml.parse(text, Loader=_FAST_LOADER):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(event.start_mark, f"lists and mappings are nested more than {MAX_DEPTH} "
                               "levels deep; an edition needs about 8: check the indentation and brackets")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, "aliases (*name) are not allowed; write the value out")
        if getattr(event, "anchor", None):
            raise _Refused(event.start_mark, "anchors (&name) are not allowed; write the value out")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!", _STANDARD_TAG + "str"):
            raise _Refused(event.start_mark, f"custom tag {tag!r} is not allowed; write the plain value")


class _Refused(Exception):
    def __init__(self, mark: Any, message: str):
        self.mark, self.message = mark, message


def _pos(path: Path, mark: Any, line_offset: int) -> Pos:
    return Pos(path, mark.line + 1 + line_offset, mark.column + 1)


# Control characters other than tab, line feed and carriage return: a vertical tab or form
# feed pasted from a word processor, C1 codes from a wrongly decoded Windows file. They are
# invisible in editors and invalid in HTML, so they are refused where they stand.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {"\x0b": "vertical tab", "\x0c": "form feed", "\x00": "NUL", "\x1b": "escape",
                  "\x7f": "delete", "\x85": "next line (NEL)"}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_text(path: Path) -> str:
    """Read an editor's file, refusing huge, non-UTF-8 files or control characters with a
    clear error. UTF-16 with a byte order mark (Windows' "Unicode") is read as such."""
    try:
        size = path.stat().st_size
        data = path.read_bytes() if size <= MAX_BYTES else b""
    except OSError as exc:
        raise SourceError(path, None, None, f"cannot read file: {exc.strerror}") from None
    if size > MAX_BYTES:
        raise SourceError(path, None, None, f"file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes")
    text = _decode(path, data)
    control = _CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        column = control.start() - (text.rfind("\n", 0, control.start()) + 1) + 1
        char = control.group(0)
        name = _CONTROL_NAMES.get(char, "control character")
        source = text.splitlines()[line - 1] if text.splitlines() else ""
        raise SourceError(path, line, column, f"invisible {name} U+{ord(char):04X} (often pasted from a word "
                          "processor); delete it or retype the text around it",
                          source_line=_CONTROL.sub("?", source))
    return text


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SourceError(path, None, None, "file starts like UTF-16 but is not; save it as UTF-8") from None
    if b"\x00" in data[:4096] and _looks_utf16(data):
        raise SourceError(path, 1, 1, "file looks like UTF-16 without a byte order mark (Windows "
                          "\"Unicode\"); save it as UTF-8 (in Notepad: Save as > Encoding: UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(path, line, column, f"file is not valid UTF-8 (byte 0x{data[exc.start]:02X}; "
                          "perhaps saved as Windows-1252 or Latin-1); save it as UTF-8") from None


def _looks_utf16(data: bytes) -> bool:
    """Mostly-ASCII UTF-16 has a NUL in every other byte."""
    head = data[:4096]
    zeros_even, zeros_odd = head[0::2].count(0), head[1::2].count(0)
    return max(zeros_even, zeros_odd) >= len(head) // 4


def load_yaml(path: Path, text: str | None = None, line_offset: int = 0) -> tuple[Any, SourceMap]:
    """Load one YAML document. Raises ValidationFailed-ready SourceErrors (one at a time:
    after a syntax error nothing further in the file can be trusted)."""
    path = Path(path)
    if text is None:
        text = read_text(path)
    smap = SourceMap(path, text)
    if line_offset:
        # Front matter: report lines of the whole Markdown file, not of the YAML part.
        smap.texts[path] = "\n" * line_offset + text
    try:
        _screen(text)
        node = yaml.compose(text, Loader=_FAST_LOADER)
    except _Refused as exc:
        raise _syntax_error(path, exc.mark, exc.message, smap, line_offset) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            message = f"{exc.problem} ({exc.context})"
        message = f"YAML syntax error: {message}{_hint(text, mark)}"
        raise _syntax_error(path, mark, message, smap, line_offset) from None
    except yaml.YAMLError as exc:
        raise SourceError(path, None, None, f"YAML error: {exc}") from None
    if node is None:
        return None, smap
    return _construct(node, (), smap, path, line_offset), smap


def _indent(smap: SourceMap, path: Path, line: int) -> int:
    lines = (smap.texts.get(path) or "").splitlines()
    if 0 < line <= len(lines):
        return len(lines[line - 1]) - len(lines[line - 1].lstrip(" "))
    return 0


def _hint(text: str, mark: Any) -> str:
    """Editors' most common YAML slips, explained in their words."""
    if mark is None:
        return ""
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if "{{" in line:
        return "; a text holding a merge field {{ ... }} may need quotes around it, or '|' and the text on the next line"
    if line.count(": ") > 1 or (": " in line.split(":", 1)[-1]):
        return "; a text holding ': ' needs quotes around it"
    if "\t" in line:
        return "; use spaces, not tabs, to indent"
    return ""


def _syntax_error(path: Path, mark: Any, message: str, smap: SourceMap, line_offset: int) -> SourceError:
    if mark is None:
        return SourceError(path, None, None, message)
    pos = _pos(path, mark, line_offset)
    return SourceError(path, pos.line, pos.column, message, source_line=smap.source_line(pos))


def _construct(node: Any, loc: Loc, smap: SourceMap, path: Path, off: int) -> Any:
    smap.positions.setdefault(loc, _pos(path, node.start_mark, off))
    if isinstance(node, yaml.ScalarNode):
        # libyaml gives '' where the Python parser gives None for a plain scalar.
        if not node.style and node.value in _NULLS:
            return None
        start = _pos(path, node.start_mark, off)
        if node.style in ("|", ">"):
            start = Pos(path, start.line + 1, _indent(smap, path, start.line + 1) + 1)
        elif node.style in ("'", '"'):
            start = Pos(path, start.line, start.column + 1)
        smap.text_starts[loc] = start
        if node.style in ("|", ">"):
            smap.block_texts.add(loc)
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), smap, path, off) for i, item in enumerate(node.value)]
    return _construct_mapping(node, loc, smap, path, off)


def _construct_mapping(node: Any, loc: Loc, smap: SourceMap, path: Path, off: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _syntax_error(path, key_node.start_mark, "a key must be a plain word, not a list or mapping", smap, off)
        key = key_node.value
        if key == "<<" and not key_node.style:
            raise _syntax_error(path, key_node.start_mark, "merge keys (<<) are not allowed", smap, off)
        if key in out:
            first = smap.positions[loc + (key,)]
            raise _syntax_error(
                path, key_node.start_mark,
                f"duplicate key {key!r} (first given on line {first.line})", smap, off,
            )
        # A mapping entry is located at its key: that is where an editor looks for it.
        smap.positions[loc + (key,)] = _pos(path, key_node.start_mark, off)
        out[key] = _construct(value_node, loc + (key,), smap, path, off)
    return out


def split_front_matter(path: Path, text: str) -> tuple[str | None, int, str, int]:
    """Split '---\\nyaml\\n---\\nbody'. Returns (yaml text or None, yaml's first line index,
    body, body's first line number)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return None, 0, text, 1
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "".join(lines[1:i]), 1, "".join(lines[i + 1:]), i + 2
    raise SourceError(path, 1, 1, "front matter starts with '---' but has no closing '---' line")


def load_front_matter(path: Path) -> tuple[dict[str, Any], SourceMap, str, int]:
    """Load a Markdown file with optional YAML front matter."""
    path = Path(path)
    text = read_text(path)
    fm, offset, body, body_line = split_front_matter(path, text)
    if fm is None:
        smap = SourceMap(path, text)
        return {}, smap, body, body_line
    data, smap = load_yaml(path, fm, line_offset=offset)
    smap.texts[path] = text
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(path, 2, 1, "front matter must be a mapping of keys to values")
    return data, smap, body, body_line
