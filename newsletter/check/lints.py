"""Preflight lints of the rendered email, run by `newsletter check` and `newsletter build`.

Errors: HTML over 102 KB (Gmail clips the message there), an image without alt text, a link
or image that is relative or not http(s)/mailto, no unsubscribe link or no postal address in
either part, a wrong ``<html lang>``. Warnings: HTML over 90 KB, a subject shorter than 10 or
longer than 78 characters, no preheader, a link of the HTML part missing from the text part,
a text line over 78 characters that is not a bare URL.
(Texts that fall back to the default language are reported by checking.source_findings.)
"""
from __future__ import annotations

import re
import html as htmllib
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from newsletter.check.findings import Finding
from newsletter.core.files import display_path
from newsletter.core.config import Workspace
from newsletter.content.loader import LoadedEdition, walk
from newsletter.content.model import text_for
from newsletter.core.errors import RenderError
from newsletter.render.variant import RenderedVariant
from newsletter.render.pipeline import render_edition

CLIP_BYTES = 102 * 1024
WARN_BYTES = 90 * 1024
SUBJECT_MIN, SUBJECT_MAX = 10, 78
TEXT_WIDTH = 78
_URL_LINE = re.compile(r"^\s*(\[\d+\]\s+)?(https?://|mailto:|%%MF[A-Z]*\d+%%)\S*$")


def lint_edition(ws: Workspace, loaded: LoadedEdition) -> list[Finding]:
    """Render every variant of the edition and lint it."""
    try:
        rendered = render_edition(ws, loaded)
    except RenderError as exc:
        return [Finding("error", "render", str(exc), display_path(loaded.file, ws.root))]
    return lint_variants(ws, loaded, rendered)


def lint_variants(ws: Workspace, loaded: LoadedEdition, rendered: list[RenderedVariant]) -> list[Finding]:
    out: list[Finding] = []
    where = display_path(loaded.file, ws.root)
    for variant in rendered:
        found = lint_variant(ws, variant, where, decorative_images(loaded, variant.language)) + _subject(variant, _place(ws, loaded, "subject", variant.language),
                                                            _place(ws, loaded, "preheader", variant.language))
        for finding in found:
            if finding not in out:  # subject, preheader and image lints repeat in every variant
                out.append(finding)
    return out


def _place(ws: Workspace, loaded: LoadedEdition, key: str, language: str) -> str:
    """Where the edition gives ``key`` in ``language`` (or the text it falls back to)."""
    value = getattr(loaded.edition, key)
    lang = next((k for k in (language, "*", loaded.default_language) if value and k in value), None)
    pos = loaded.smap.lookup((key, lang) if lang else (key,))
    return f"{display_path(pos.path, ws.root)}:{pos.line}:{pos.column}"


# The rendered HTML is read with regular expressions rather than html.parser: it is written by
# MRML and css-inline (every tag well-formed), and html.parser takes 10 times longer over the
# ~1,500 tags of an email, which `newsletter check` and every preview refresh would pay.
_ATTRS = r"""((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)"""
_WANTED_TAG = re.compile(r"<(html|img|a)\b" + _ATTRS + r"\s*/?>", re.I)
_ANY_TAG = re.compile(r"</?[A-Za-z][^\s/>]*" + _ATTRS + r"\s*/?>")
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_NOT_SHOWN = re.compile(r"<!--.*?-->|<![^>]*>|<(style|title|script)\b.*?</\1\s*>", re.S | re.I)


@dataclass
class Scan:
    """The parts of an HTML document the lints look at."""

    lang: str | None = None
    images: list[dict[str, str | None]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    text: str = ""          # the words a reader sees, whitespace collapsed


def _attributes(raw: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for m in _ATTR.finditer(raw):
        value = m.group(2)
        if value is not None and value[:1] in "\"'":
            value = value[1:-1]
        out.setdefault(m.group(1).lower(), htmllib.unescape(value) if value is not None else None)
    return out


def scan_html(html: str) -> Scan:
    scan = Scan()
    for match in _WANTED_TAG.finditer(html):
        tag, attrs = match.group(1).lower(), _attributes(match.group(2))
        if tag == "html" and scan.lang is None:
            scan.lang = attrs.get("lang")
        elif tag == "img":
            scan.images.append(attrs)
        elif tag == "a" and "href" in attrs:
            scan.links.append(attrs["href"] or "")
    scan.text = " ".join(htmllib.unescape(_ANY_TAG.sub(" ", _NOT_SHOWN.sub(" ", html))).split())
    return scan


def fill_defaults(variant: RenderedVariant, text: str) -> str:
    """``text`` with each placeholder replaced by its field's default (as the archive shows it)."""
    return variant.fill_defaults(text)


def is_absolute(url: str) -> bool:
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return parts.scheme == "mailto" and "@" in parts.path


_TEL = re.compile(r"^tel:\+?[0-9]{3,20}$")


def is_local(url: str) -> bool:
    """A link that needs no web address: a jump to a heading of the same email (the table
    of contents) or a phone number (tel:+4971155501, digits only)."""
    url = url.strip()
    return bool(re.fullmatch(r"#[A-Za-z0-9_-]+", url) or _TEL.match(url))


def lint_variant(ws: Workspace, variant: RenderedVariant, where: str,
                 decorative: frozenset[str] = frozenset()) -> list[Finding]:
    scan = scan_html(variant.html)  # placeholders intact: the unsubscribe link is one
    key = variant.key
    out = _size(key, fill_defaults(variant, variant.html), where) + _html_checks(key, variant, scan, where, decorative)
    out += _footer(ws, variant, scan, where) + _text_checks(variant, scan, where)
    return out


def _size(key: str, html: str, where: str) -> list[Finding]:
    size = len(html.encode("utf-8"))
    if size > CLIP_BYTES:
        return [Finding("error", "html-size", f"{key}: the HTML is {size / 1024:.1f} KB; Gmail clips messages "
                        f"over 102 KB (hiding the rest, unsubscribe link included): shorten the edition", where)]
    if size > WARN_BYTES:
        return [Finding("warning", "html-size", f"{key}: the HTML is {size / 1024:.1f} KB, close to the "
                        f"102 KB where Gmail clips messages", where)]
    return []


def _html_checks(key: str, variant: RenderedVariant, scan: Scan, where: str,
                 decorative: frozenset[str] = frozenset()) -> list[Finding]:
    out = []
    if scan.lang != variant.language:
        out.append(Finding("error", "html-lang", f"{key}: <html lang={scan.lang!r}> should be {variant.language!r}", where))
    for img in scan.images:
        src = fill_defaults(variant, img.get("src") or "")
        # An editor's alt: "" is reported once, at its line (content.editorial); any other
        # image without alt text comes from the theme.
        if not (img.get("alt") or "").strip() and not _decorative(decorative, src):
            out.append(Finding("error", "img-alt", f"image {src!r} has no alt text", where))
        if not src.lower().startswith(("http://", "https://")):
            out.append(Finding("error", "img-url", f"{key}: image {src!r} is not an absolute http(s) URL", where))
    for href in dict.fromkeys(fill_defaults(variant, u) for u in scan.links):
        if not (is_absolute(href) or is_local(href)):
            out.append(Finding("error", "link", f"{key}: link {href!r} is relative or not http(s)/mailto; "
                               "it breaks in mail clients", where))
    return out


def _decorative(decorative: frozenset[str], src: str) -> bool:
    return any(src == ref or src.endswith("/" + quote(ref)) for ref in decorative)


def decorative_images(loaded: LoadedEdition, language: str) -> frozenset[str]:
    """The image references the editor gave an empty ``alt: ""`` in ``language``."""
    out = set()
    for loc, name, _info, alt in walk(loaded.edition):
        if name != "alt" or not alt or text_for(alt, language, loaded.default_language).strip():
            continue
        owner: object = loaded.edition
        for part in loc[:-1]:
            owner = owner[part] if isinstance(part, int) else getattr(owner, part)
        ref = getattr(owner, "image", None) or getattr(owner, "src", None)
        if isinstance(ref, str):
            out.add(ref)
    return frozenset(out)


def _footer(ws: Workspace, variant: RenderedVariant, scan: Scan, where: str) -> list[Finding]:
    out = []
    token = next((t for t, f in variant.fields.items() if f.field == "unsubscribe_url"), None)
    address = " ".join(ws.settings.organisation.postal_address.split())
    for part, has_link, content in (
        ("HTML", token is not None and token in scan.links, scan.text),
        ("text", token is not None and token in variant.text, " ".join(fill_defaults(variant, variant.text).split())),
    ):
        if not has_link:
            out.append(Finding("error", "unsubscribe", f"{variant.key}: the {part} part has no unsubscribe link", where))
        if address not in content:
            out.append(Finding("error", "postal-address", f"{variant.key}: the {part} part does not show the "
                               "postal address (organisation.postal_address)", where))
    return out


def _text_checks(variant: RenderedVariant, scan: Scan, where: str) -> list[Finding]:
    out = []
    missing = [u for u in dict.fromkeys(scan.links) if u not in variant.text and not is_local(u)]
    if missing:
        out.append(Finding("warning", "text-links", f"{variant.key}: the text part lacks links of the HTML part: "
                           + ", ".join(missing[:5]), where))
    long = [n for n, line in enumerate(variant.text.split("\n"), 1)
            if len(line) > TEXT_WIDTH and not _URL_LINE.match(line)]
    if long:
        out.append(Finding("warning", "text-width", f"{variant.key}: text lines over {TEXT_WIDTH} characters: "
                           + ", ".join(map(str, long[:10])), where))
    return out


def _subject(variant: RenderedVariant, subject_at: str, preheader_at: str) -> list[Finding]:
    out = []
    subject = fill_defaults(variant, variant.subject)
    lang = variant.language
    if len(subject) < SUBJECT_MIN or len(subject) > SUBJECT_MAX:
        out.append(Finding("warning", "subject-length", f"{lang}: the subject has {len(subject)} characters; "
                           f"{SUBJECT_MIN} to {SUBJECT_MAX} show well in inboxes", subject_at))
    if not variant.preheader.strip():
        out.append(Finding("warning", "preheader", f"{lang}: no preheader; inboxes then show the first words "
                           "of the email (\"View this email in your browser\") beside the subject", preheader_at))
    return out
