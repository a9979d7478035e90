"""Column names as organisations write them, in the languages of the network.

A spreadsheet kept in Stuttgart says ``E-Mail;Vorname;Nachname;Sprache;Land``, one from Rosario
``correo electrónico,nombre,apellido,idioma,país``. Each header is read case-, accent-, space-
and punctuation-insensitively (and without a byte-order mark) and matched against the words
below. A column that matches nothing stays an attribute under its own name; ``unrecognised``
finds the closest field for the note the import prints, so that a typo ("Vornmae") is noticed.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from newsletter.subscribers.names import fold

# field -> what it is called (English, German, Spanish, French, Italian, Portuguese, Dutch).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": (
        "email", "e-mail", "mail", "email address", "e-mail address", "mail address",
        "e-mail-adresse", "emailadresse", "mailadresse", "e-mail adresse",
        "correo", "correo electrónico", "email correo", "dirección de correo", "dirección de correo electrónico",
        "courriel", "adresse e-mail", "adresse email", "adresse mail", "adresse électronique", "adresse courriel",
        "mél", "posta elettronica", "indirizzo email", "indirizzo e-mail", "indirizzo di posta elettronica",
        "endereço de email", "endereço de e-mail", "endereço eletrónico", "endereço eletrônico",
        "e-mailadres", "emailadres", "e-mail adres",
    ),
    "first_name": (
        "first name", "firstname", "given name", "forename",
        "vorname", "rufname", "nombre", "nombre de pila", "prénom", "prenom",
        "nome", "nome proprio", "primeiro nome", "nome próprio", "voornaam", "roepnaam",
    ),
    "last_name": (
        "last name", "lastname", "surname", "family name",
        "nachname", "familienname", "zuname", "apellido", "apellidos", "nom", "nom de famille",
        "cognome", "sobrenome", "apelido", "último nome", "ultimo nome", "achternaam", "familienaam",
    ),
    "name": (
        "name", "full name", "display name", "vollständiger name", "anzeigename",
        "nombre completo", "nom complet", "nome completo", "naam", "volledige naam",
    ),
    "language": (
        "language", "lang", "preferred language", "sprache", "bevorzugte sprache", "idioma", "lengua",
        "langue", "langue préférée", "lingua", "língua", "taal", "voorkeurstaal",
    ),
    "country": (
        "country", "country code", "land", "ländercode", "país", "pais", "pays", "paese", "nazione",
        "código de país", "code pays",
    ),
    "tags": (
        "tags", "tag", "etiketten", "schlagwörter", "schlagworte", "stichwörter", "etiquetas", "etiquettes",
        "mots-clés", "etichette", "labels",
    ),
    "status": ("status", "estado", "statut", "stato iscrizione", "situação"),
    # Dutch lists keep the "van der" of "Anna van der Berg" in a column of its own; it is put
    # in front of the family name (plaincsv.PlainCsv.finish).
    "name_infix": ("tussenvoegsel", "tussenvoegsels", "voorvoegsel", "name infix"),
    "created_at": ("created", "created at", "signup date", "subscribed at", "angemeldet am", "anmeldedatum",
                   "fecha de alta", "date d'inscription", "data di iscrizione", "data de inscrição"),
}
# Words that name the full name in English but the family name beside a first-name column
# ("E-Mail;Vorname;Name", "email,first name,name").
SURNAME_BESIDE_FIRST = frozenset({"name", "naam"})
KNOWN: dict[str, tuple[str, str]] = {fold(word): (field, word) for field, words in SYNONYMS.items()
                                     for word in words}
CLOSE = 0.75  # how alike a header and a known word must be for "did you mean"


def field_for(column: str) -> str | None:
    """The subscriber field a column header means, or None."""
    found = KNOWN.get(fold(column))
    return found[0] if found else None


@dataclass(frozen=True)
class Unrecognised:
    """A column kept as an attribute, and the field it is closest to (if any is close)."""

    column: str
    field: str | None = None
    word: str | None = None

    def __str__(self) -> str:
        if self.field is None:
            return repr(self.column)
        return f"{self.column!r} (closest field: {self.field}, as in {self.word!r})"


def closest(column: str) -> Unrecognised:
    key = fold(column)
    match = difflib.get_close_matches(key, KNOWN, n=1, cutoff=CLOSE) if key else []
    if not match:
        return Unrecognised(column)
    field, word = KNOWN[match[0]]
    return Unrecognised(column, field, word)


def attribute_note(unknown: list[Unrecognised]) -> str:
    """The note an import prints about columns it kept as attributes."""
    listed = ", ".join(str(u) for u in unknown)
    example = next((u for u in unknown if u.field), unknown[0])
    target = example.field or "first_name"
    return (f"{len(unknown)} column(s) are not subscriber fields and are kept as attributes: {listed}. "
            f"If one of them is a field, rename it in the file or map it, e.g. "
            f"--map-column {f'{example.column}={target}'!r}")
