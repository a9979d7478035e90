"""Which blocks fall back to the default language, per language (the completeness report)."""
from __future__ import annotations

from newsletter.core.yamlsrc import format_loc
from newsletter.content.loader import LoadedEdition, walk
from newsletter.content.model import falls_back, text_for, text_marker
from newsletter.content.translations import TranslationState


def block_label(loaded: LoadedEdition, index: int) -> str:
    block = loaded.edition.blocks[index]
    title = getattr(block, "title", None) or getattr(block, "text", None)
    name = text_for(title, loaded.default_language, loaded.default_language) if title else ""
    name = (name[:40] + "...") if len(name) > 43 else name
    return f"blocks[{index}] {block.type}" + (f" {name!r}" if name else "")


def fallbacks(loaded: LoadedEdition) -> dict[str, dict[str, list[str]]]:
    """{language: {block label (or 'edition'): [field paths that fall back]}} for every
    language of the edition other than its default."""
    report: dict[str, dict[str, list[str]]] = {}
    for lang in loaded.edition.languages:
        if lang == loaded.default_language:
            continue
        missing: dict[str, list[str]] = {}
        for loc, _name, info, value in walk(loaded.edition):
            if text_marker(info) is None:
                continue
            if falls_back(value, lang):
                label = block_label(loaded, loc[1]) if loc[0] == "blocks" else "edition"
                missing.setdefault(label, []).append(format_loc(loc))
        if missing:
            report[lang] = missing
    return report


def stale(loaded: LoadedEdition) -> dict[str, list[TranslationState]]:
    """{language: [stale translations]}: translated from a source text that has changed since."""
    report: dict[str, list[TranslationState]] = {}
    for state in loaded.translation_states.values():
        if state.state == "stale":
            report.setdefault(state.language, []).append(state)
    return report
