"""Merge tags: the standard fields, and other tools' merge-tag syntaxes, recognised so that
an editor who pastes ``*|FNAME|*`` from Mailchimp is told what to write instead.
(Separate from ``merge`` so that the edition schema can use it: ``merge`` builds on the schema.)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from newsletter.core.validation import suggest

STANDARD_FIELDS = ("email", "name", "first_name", "last_name", "language", "country")


# Names other tools give the standard fields (Mailchimp's FNAME, Brevo's contact.FIRSTNAME,
# a German spreadsheet's Vorname, ...): a foreign merge tag is answered with ours.
ALIASES = {
    "first_name": ("fname", "firstname", "first", "givenname", "forename", "vorname", "prenom",
                   "prénom", "nombre", "nome", "voornaam", "primeiro_nome"),
    "last_name": ("lname", "lastname", "last", "surname", "familyname", "nachname", "nom",
                  "apellido", "apellidos", "cognome", "achternaam", "sobrenome"),
    "name": ("fullname", "full_name", "displayname", "display_name"),
    "email": ("email_address", "emailaddress", "mail", "e_mail", "e-mail", "courriel", "correo"),
    "language": ("lang", "locale", "sprache", "langue", "idioma", "lingua", "taal"),
    "country": ("land", "pays", "pais", "país", "paese"),
}


def alias_for(name: str, known: Iterable[str] = STANDARD_FIELDS) -> str | None:
    """Our field for a name another tool uses (``FNAME``, ``contact.FIRSTNAME``, ``Vorname``)."""
    known = list(known)
    bare = name.split(".")[-1].strip().lower().replace(" ", "_")
    if bare in known:
        return bare
    if f"attributes.{bare}" in known:
        return f"attributes.{bare}"
    squashed = bare.replace("_", "").replace("-", "")
    for field, names in ALIASES.items():
        if bare in names or squashed in {n.replace("_", "").replace("-", "") for n in names} \
                or squashed == field.replace("_", ""):
            return field
    return None


# Merge tags of other tools, which would be mailed as they stand. Each pattern's group 'name'
# is the field the editor meant.
_IDENT = r"(?P<name>[A-Za-z\u00c0-\u024f][\w\u00c0-\u024f.-]{0,40})"
FOREIGN_TAGS = [
    (re.compile(r"\*\|\s*" + _IDENT + r"\s*\|\*"), "Mailchimp"),             # *|FNAME|*
    (re.compile(r"\[\[\s*" + _IDENT + r"\s*\]\]"), "double-bracket"),          # [[first_name]]
    (re.compile(r"(?<![{$])\$?\{\s*\$?" + _IDENT + r"\s*\}(?!\})"), "single-brace"),  # {first_name} ${x} {$x}
    (re.compile(r"(?<![%\w])%" + _IDENT + r"%(?![%\w])"), "percent"),          # %FIRSTNAME%
    (re.compile(r"«\s*" + _IDENT + r"\s*»"), "mail-merge"),                     # «Vorname» (Word)
    (re.compile(r"<<\s*" + _IDENT + r"\s*>>"), "mail-merge"),                   # <<Vorname>>
    (re.compile(r"(?<!\{)\{\{\{\s*" + _IDENT + r"\s*\}\}\}(?!\})"), "triple-brace"),  # {{{first_name}}}
]


@dataclass(frozen=True)
class ForeignTag:
    text: str
    offset: int
    ours: str | None   # the field of ours it probably means

    def message(self) -> str:
        hint = (f"; did you mean {{{{ {self.ours} }}}}?" if self.ours else
                "; write merge fields like {{ first_name }} (docs/editions.md lists the fields)")
        return f"{self.text!r} is another tool's merge tag and would be mailed as it stands{hint}"


def foreign_tags(text: str, attributes: Iterable[str] = ()) -> list[ForeignTag]:
    """Merge tags written in another tool's syntax (Mailchimp's ``*|FNAME|*``, ``{first_name}``,
    ``%FIRSTNAME%``, Word's ``«Vorname»``, ...), in the order they stand."""
    known = list(STANDARD_FIELDS) + [f"attributes.{a}" for a in attributes]
    found: dict[int, ForeignTag] = {}
    for pattern, _kind in FOREIGN_TAGS:
        for m in pattern.finditer(text):
            if any(m.start() < f.offset + len(f.text) and f.offset < m.end() for f in found.values()):
                continue
            name = m.group("name")
            if _kind in ("single-brace", "percent") and alias_for(name, known) is None \
                    and not suggest(name, known) and not name.isupper():
                continue  # '{draft}' or '%done%' in prose: not obviously a merge tag
            found[m.start()] = ForeignTag(m.group(0), m.start(), alias_for(name, known) or _close(name, known))
    return [found[k] for k in sorted(found)]


def _close(name: str, known: list[str]) -> str | None:
    hint = suggest(name.lower(), known)
    return hint.split("'")[1] if hint else None
