"""Language and country names as people type them into spreadsheets ("Deutsch", "German",
"español", "Alemania", "Países Bajos"), read back as codes ("de", "es", "DE", "NL").

The names come from CLDR (through Babel), in the languages of the network, so that a list
kept in any of them can be imported. A name is read case- and accent-insensitively and
without spaces or punctuation ("ESPANOL" is "español"). A name that means two different
codes in the languages we read is not guessed at: the caller refuses it with a clear error.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# The languages whose names for languages and countries are read: those the network writes
# in (en, de, es, fr, it, pt, nl) and those of the countries it works in (Albania, Bosnia,
# Bulgaria, Czech Republic, Hungary, Kenya, Nepal, Poland, Russia, Rwanda, Slovakia, Turkey).
NAME_LOCALES = ("en", "de", "es", "fr", "it", "pt", "nl",
                "sq", "bs", "bg", "cs", "hu", "sw", "ne", "pl", "ru", "rw", "sk", "tr")
# What CLDR does not list but people write: older or everyday names.
EXTRA_COUNTRIES = {
    "Turkey": "TR", "Czech Republic": "CZ", "Tschechische Republik": "CZ", "República Checa": "CZ",
    "République tchèque": "CZ", "Repubblica Ceca": "CZ", "Tsjechische Republiek": "CZ",
    "Bosnia": "BA", "Bosnien": "BA", "Bosnia and Herzegovina": "BA", "USA": "US", "U.S.A.": "US",
    "United States of America": "US", "UK": "GB", "Great Britain": "GB", "Holland": "NL",
}
AMBIGUOUS = "?"  # a name that means more than one code
_REGIONS = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})  # CLDR entries that are no country


def fold(text: str) -> str:
    """The form names are compared in: lower case, no accents, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum() or (_is_mark(c) and not _ACCENTS.match(c)))


# Accents on Latin, Greek and Cyrillic letters are dropped; the vowel signs of other scripts
# (Devanagari, ...) are part of the letter and kept.
_ACCENTS = re.compile("[\u0300-\u036f]")


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def language_code(name: str) -> str | None:
    """The language code for a language name in any of NAME_LOCALES ("Deutsch" -> "de",
    "Brazilian Portuguese" -> "pt-BR"); AMBIGUOUS if it names two; None if unknown."""
    return _languages().get(fold(name))


def country_code(name: str) -> str | None:
    """The two-letter country code for a country name ("Alemania" -> "DE"); AMBIGUOUS if it
    names two; None if unknown."""
    return _countries().get(fold(name))


def _add(table: dict[str, str], name: str, code: str) -> None:
    key = fold(name)
    if key:
        table[key] = code if table.get(key, code) == code else AMBIGUOUS


@lru_cache(maxsize=1)
def _languages() -> dict[str, str]:
    from babel import Locale  # loaded only when a file holds names instead of codes

    table: dict[str, str] = {}
    for locale in NAME_LOCALES:
        for code, name in Locale.parse(locale).languages.items():
            head, _, region = code.partition("_")
            if re.fullmatch(r"[a-z]{2,3}", head) and (not region or re.fullmatch(r"[A-Z]{2}|\d{3}", region)):
                _add(table, name, f"{head}-{region}" if region else head)
    return table


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    from babel import Locale

    table: dict[str, str] = {}
    for locale in NAME_LOCALES:
        for code, name in Locale.parse(locale).territories.items():
            if re.fullmatch(r"[A-Z]{2}", code) and code not in _REGIONS:
                _add(table, name, code)
    for name, code in EXTRA_COUNTRIES.items():
        _add(table, name, code)
    return table
