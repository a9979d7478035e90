"""Sign-off per language: ``issues/<edition>/approvals.yaml``, written by ``newsletter approve``.

An approval records who approved a language, when, and the fingerprint of what they approved:
the source-language texts and that language's texts together. When either changes afterwards,
the language counts as *changed since approval* and must be approved again before it is sent
(where the workspace requires approval: ``translations.require_approval`` in newsletter.yaml).
The file is small and meant to be kept under version control with the edition.

The source language (the workspace's default) is the editor's own text: it is sent without an
approval (its state is still shown, and ``approve --lang en`` may record one for the record).
An approval whose fingerprint this version cannot have written (edited by hand, or from a
future version) is *unknown*: nobody can tell whether it still holds, so it does not count.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

from newsletter.content.loader import LoadedEdition, walk
from newsletter.content.model import text_for, text_marker
from newsletter.content.translations import yaml_quoted
from newsletter.core.errors import SourceError, ValidationFailed
from newsletter.core.files import atomic_write
from newsletter.core.yamlsrc import format_loc, load_yaml

APPROVALS_FILE = "approvals.yaml"
Status = Literal["approved", "changed", "not approved", "unknown"]
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")   # what language_fingerprint writes


@dataclass(frozen=True)
class Approval:
    language: str
    by: str
    at: str
    fingerprint: str


@dataclass(frozen=True)
class LanguageState:
    language: str
    status: Status
    approval: Approval | None
    source: bool = False    # the edition's source language: sent without approval
    edition: str = "EDITION"  # its name, for the command that approves it

    @property
    def sendable(self) -> bool:
        """May go out where the workspace requires approval."""
        return self.source or self.status == "approved"

    def describe(self) -> str:
        note = "; the source language needs no approval" if self.source else ""
        if self.approval is None:
            if self.source:
                return f"{self.language}: source language, needs no approval"
            return f"{self.language}: not approved (newsletter approve {self.edition} --lang {self.language})"
        by = f"by {self.approval.by} at {self.approval.at}"
        if self.status == "unknown":
            return (f"{self.language}: unknown: the approval {by} has a fingerprint this version of "
                    f"newsletter did not write ({self.approval.fingerprint!r}), so nobody can tell "
                    f"whether it still holds{note}")
        what = "approved" if self.status == "approved" else "changed since it was approved"
        return f"{self.language}: {what} {by}{note}"


def language_fingerprint(loaded: LoadedEdition, language: str) -> str:
    """What an approval of ``language`` covers: every text as that language's readers get it,
    beside the source text it comes from, and the edition's date and number."""
    default = loaded.default_language
    digest = hashlib.sha256(f"{loaded.edition.number}\0{loaded.edition.date}\0".encode("utf-8"))
    for loc, _name, info, value in walk(loaded.edition):
        if text_marker(info) is None or not value:
            continue
        digest.update(format_loc(loc).encode("utf-8") + b"\0")
        digest.update(text_for(value, default, default).encode("utf-8") + b"\0")
        digest.update(text_for(value, language, default).encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]


def read_approvals(folder: Path) -> dict[str, Approval]:
    path = folder / APPROVALS_FILE
    if not path.is_file():
        return {}
    data, smap = load_yaml(path)
    if data is None:
        return {}
    errors: list[SourceError] = []
    out: dict[str, Approval] = {}
    if not isinstance(data, dict):
        raise ValidationFailed([smap.error((), "expected a mapping of languages to approvals", "")])
    for lang, entry in data.items():
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("by", "at", "fingerprint"))):
            errors.append(smap.error((lang,), "expected 'by', 'at' and 'fingerprint' (written by "
                                     "`newsletter approve`)", lang))
            continue
        out[lang] = Approval(lang, entry["by"], entry["at"], entry["fingerprint"])
    if errors:
        raise ValidationFailed(errors)
    return out


def language_states(loaded: LoadedEdition) -> dict[str, LanguageState]:
    approvals = read_approvals(loaded.folder)
    out = {}
    for lang in loaded.edition.languages:
        approval = approvals.get(lang)
        if approval is None:
            status: Status = "not approved"
        elif not _FINGERPRINT.fullmatch(approval.fingerprint):
            status = "unknown"
        else:
            status = "approved" if approval.fingerprint == language_fingerprint(loaded, lang) else "changed"
        out[lang] = LanguageState(lang, status, approval, source=lang == loaded.default_language,
                                  edition=loaded.name)
    return out


def approve(loaded: LoadedEdition, languages: list[str], by: str, now: dt.datetime) -> list[Approval]:
    """Record approvals of ``languages`` (kept for the others) and return the new ones."""
    # Codes are case-insensitive ('DE'), as `send --lang` and readers' languages read them.
    known = {lang.lower().replace("_", "-"): lang for lang in loaded.edition.languages}
    languages = list(dict.fromkeys(known.get(lang.lower().replace("_", "-"), lang) for lang in languages))
    unknown = [lang for lang in languages if lang not in loaded.edition.languages]
    if unknown:
        raise ValidationFailed([loaded.smap.error(("languages",), (
            f"edition {loaded.name} has no language {unknown[0]!r}; its languages: "
            f"{', '.join(loaded.edition.languages)}"), "languages")])
    approvals = read_approvals(loaded.folder)
    stamp = now.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    made = [Approval(lang, by, stamp, language_fingerprint(loaded, lang)) for lang in languages]
    approvals.update({a.language: a for a in made})
    write_approvals(loaded.folder, approvals, loaded.edition.languages)
    return made


def write_approvals(folder: Path, approvals: dict[str, Approval], order: list[str]) -> None:
    lines = ["# Sign-offs per language, written by `newsletter approve`. A language whose texts change",
             "# after its approval must be approved again before it is sent (see docs/translation.md)."]
    for lang in sorted(approvals, key=lambda l: (order.index(l) if l in order else len(order), l)):
        a = approvals[lang]
        lines += [f"{lang}:", f"  by: {yaml_quoted(a.by)}", f"  at: {yaml_quoted(a.at)}", f"  fingerprint: {a.fingerprint}"]
    with atomic_write(folder / APPROVALS_FILE, text=True) as fh:
        fh.write("\n".join(lines) + "\n")


def unapproved(loaded: LoadedEdition, languages: Iterable[str]) -> list[LanguageState]:
    """The languages among ``languages`` that may not be sent where approval is required: not
    approved, changed since, or of unknown state (the source language always may)."""
    states = language_states(loaded)
    return [states[lang] for lang in languages if lang in states and not states[lang].sendable]
