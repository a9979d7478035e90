"""The readers' pages in the reader's language: the shipped words (en, de, es), a workspace's
templates/web/strings.yaml over them, and the choice of language (the subscriber's own on
pages reached through a token, Accept-Language on the sign-up page, else the default)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

from newsletter.core.config import Workspace
from newsletter.core.errors import ConfigError

SHIPPED = Path(__file__).with_name("strings.yaml")
FALLBACK = "en"


@dataclass(frozen=True)
class Words:
    """The words of one language; ``w.key`` or ``w("key", email=...)`` with placeholders."""

    language: str
    table: dict[str, str]

    def __getattr__(self, key: str) -> str:
        try:
            return self.table[key]
        except KeyError:
            raise AttributeError(key) from None

    def __call__(self, key: str, **values: Any) -> str:
        text = self.table[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text


class Texts:
    """Every language's words, read once when the app starts."""

    def __init__(self, ws: Workspace):
        table: dict[str, dict[str, str]] = {}
        for path in (SHIPPED, ws.templates_dir / "web" / "strings.yaml"):
            if path.is_file():
                for lang, words in _read(path).items():
                    table.setdefault(lang, {}).update(words)
        self._table = table
        self.default = ws.settings.languages.default
        offered = [lang for lang in ws.settings.languages.available if self._known(lang)]
        self.offered = offered or [FALLBACK]

    def _known(self, language: str) -> bool:
        return language in self._table or language.split("-")[0] in self._table

    def words(self, language: str | None) -> Words:
        lang = self.best([language] if language else [])
        base = self._table.get(FALLBACK, {})
        words = {**base, **self._table.get(lang.split("-")[0], {}), **self._table.get(lang, {})}
        return Words(lang, words)

    def best(self, wanted: Iterable[str]) -> str:
        """The first wanted language that is offered (exactly, or by its primary subtag),
        else the workspace's default."""
        for lang in wanted:
            lang = lang.strip()
            for candidate in (lang, lang.split("-")[0]):
                for offered in self.offered:
                    if offered.lower() == candidate.lower():
                        return offered
        return self.default if self._known(self.default) else FALLBACK

    def language_names(self) -> list[tuple[str, str]]:
        return [(lang, self.words(lang).language_name) for lang in self.offered]


def accept_language(header: str | None) -> list[str]:
    """Accept-Language tags, best first (RFC 9110 q-values; q=0 means "not this one")."""
    ranked = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)][:10]


def _read(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the page texts: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ConfigError(f"{path}: expected languages (en:, de:, ...) each holding key: text pairs")
    return {str(lang): {str(k): str(v) for k, v in words.items()} for lang, words in data.items()}
