"""Translate pydantic's ValidationError into SourceErrors that point into the editor's file.

Pydantic reports a location such as ``('blocks', 2, 'article', 'titel')``; the ``'article'``
part is the tag of a discriminated union and does not exist in the YAML. We walk the loaded
data to drop such parts, then ask the SourceMap where the remaining path was written.
"""
from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from newsletter.core.errors import SourceError
from newsletter.core.yamlsrc import Loc, SourceMap, format_loc


def suggest(word: str, choices: typing.Iterable[str]) -> str:
    """' ; did you mean 'x'?' or ''."""
    import difflib  # only when there is a mistake to explain

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def data_loc(data: Any, loc: Loc, keep_last: bool = False) -> Loc:
    """The part of a pydantic loc that exists in ``data`` (union tags and validator names dropped)."""
    out: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            current = current[part]
            out.append(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
            out.append(part)
        elif keep_last and isinstance(current, dict) and isinstance(part, str) and part == loc[-1]:
            out.append(part)  # a missing or unknown key: keep it so the message can name it
    return tuple(out)


def errors_from_pydantic(exc: ValidationError, smap: SourceMap, root: type[BaseModel],
                         data: Any, prefix: Loc = ()) -> list[SourceError]:
    out = []
    for err in exc.errors(include_url=False):
        loc = data_loc(data, tuple(err["loc"]), keep_last=err["type"] in ("missing", "extra_forbidden"))
        message = _message(err, root)
        where = loc if err["type"] != "missing" else loc[:-1]
        source = smap.error(prefix + where, message, field_path=format_loc(prefix + loc))
        out.append(source)
    return out


def _message(err: dict[str, Any], root: type[BaseModel]) -> str:
    kind, loc = err["type"], tuple(err["loc"])
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        key = loc[-1]
        allowed = model_keys(_model_at(root, loc[:-1]))
        hint = suggest(str(key), allowed)
        if not hint and allowed:
            hint = f"; expected one of: {', '.join(sorted(allowed))}"
        return f"unknown key {key!r}{hint}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        tag = ctx.get("tag")
        return f"unknown type {tag!r}{suggest(str(tag), tags)} expected one of: {', '.join(tags)}"
    if kind == "union_tag_not_found":
        key = str(ctx.get("discriminator", "type")).strip("'")  # pydantic gives it quoted: "'type'"
        return f"missing key {key!r} that says what this is"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys to values (lines like 'title: ...'); got {_short(err.get('input'))}"
    if kind == "list_type":
        return f"expected a list (lines starting with '- '); got {_short(err.get('input'))}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        value = err.get("input")
        hint = suggest(str(value), choices) if isinstance(value, str) else ""
        return f"{_lower_first(str(err['msg']))}; got {_short(value)}{hint}"
    msg = str(err["msg"])
    for lead in ("Value error, ", "Assertion failed, "):
        if msg.startswith(lead):
            return msg[len(lead):]
    return f"{_lower_first(msg)}; got {_short(err.get('input'))}"


def _lower_first(msg: str) -> str:
    msg = msg.replace("Input should be", "expected")
    return msg[:1].lower() + msg[1:]


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def model_keys(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    keys = []
    for name, info in model.model_fields.items():
        keys.append(info.alias or name)
    return keys


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The pydantic model class that validates the value at ``loc`` (for 'did you mean')."""
    tp: Any = root
    for part in loc:
        tp = _descend(tp, part)
        if tp is None:
            return None
    tp = _strip(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return tp


def _descend(tp: Any, part: str | int) -> Any:
    tp = _strip(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, info in tp.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, tuple, set, frozenset) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    if origin in (typing.Union, types.UnionType):
        for member in args:
            member = _strip(member)
            if isinstance(member, type) and issubclass(member, BaseModel) and _tag_of(member) == part:
                return member
            if getattr(member, "__name__", None) == part:
                return member
        return tp  # a tagged union whose tag is the next part: stay here
    return None


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if args else None
