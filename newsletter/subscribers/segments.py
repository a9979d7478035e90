"""Segments in subscribers/segments.yaml. (Minimal: names only; rules come with the store.)"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..config import Workspace
from ..errors import ValidationFailed, SourceError
from ..yamlsrc import load_yaml


@dataclass
class Segments:
    names: list[str] = field(default_factory=lambda: ["all"])


def load_segments(ws: Workspace) -> Segments:
    path = ws.segments_file
    if not path.is_file():
        return Segments()
    try:
        data, smap = load_yaml(path)
    except SourceError as err:
        raise ValidationFailed([err]) from None
    data = data or {}
    segs = data.get("segments") if isinstance(data, dict) else None
    if not isinstance(segs, dict):
        raise ValidationFailed([smap.error((), "expected 'segments:' with one entry per segment", "")])
    names = list(segs)
    if "all" not in names:
        names.insert(0, "all")
    return Segments(names)
