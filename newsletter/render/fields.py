"""Merge fields become placeholder tokens before anything is rendered.

Each ``{{ ... }}`` in an editor's text is replaced by a placeholder (``content.merge.token``)
before Markdown and Jinja see the text, so a variant is rendered once and composition fills
the placeholders per recipient. The same field with the same default shares one placeholder.

No editor can forge a placeholder. Rendering first uses placeholders salted with a digest of
the edition's own files (``salt_for``): to forge one, a text would have to contain the digest of
itself. Text that merely looks like a placeholder (``%%MF0%%``, typed, escaped as ``\\%``, or
written as ``&#37;`` entities) stays text. Only when the rendered output holds nothing that
looks like an unsalted placeholder are the salts taken out again (``unsalt``), so the usual
output keeps the short ``%%MF0%%`` form.

Links: a placeholder inside an ``href`` or ``src`` (a merge field in a link) is not filled on
its own. The whole URL becomes one link field (``bind_url``) whose value composition works out
per recipient (``content.merge.fill_url``), checks, and replaces by the defaults when the
result is not an http(s) or mailto link.
"""
from __future__ import annotations

import hashlib
import html as htmllib
import re
from typing import Iterable

from newsletter.content import merge
from newsletter.content.merge import MergeField

_UNSALTED = re.compile(r"%%MF\d+%%")
_URL_ATTR = re.compile(r'(\s(?:href|src)=")([^"]*)(")')


def salt_for(texts: Iterable[str]) -> str:
    """Ten capital letters from a digest of ``texts`` (the edition's files)."""
    digest = hashlib.sha256("\0".join(sorted(texts)).encode("utf-8", "surrogatepass")).digest()
    return "".join(chr(65 + b % 26) for b in digest[:10])


class FieldRegistry:
    """The merge fields of one variant: token -> MergeField, numbered in reading order."""

    def __init__(self, attributes: Iterable[str] = (), salt: str = ""):
        self.attributes = list(attributes)
        self.salt = salt
        self.pattern = merge.token_re(salt)
        # markdown-it percent-encodes '%' in link targets (leaving a '%' before two hex digits).
        self._encoded = re.compile(rf"%25%25MF{re.escape(salt)}(\d+)%25(?:%25|%(?=[0-9A-Fa-f]{{2}}))")
        self.fields: dict[str, MergeField] = {}
        self._by_key: dict[tuple[str, str, str], str] = {}

    def _token_for(self, field: MergeField) -> str:
        token = self._by_key.get(field.key)
        if token is None:
            token = merge.token(len(self.fields), self.salt)
            self._by_key[field.key] = token
            self.fields[token] = field
        return token

    def tokenize(self, text: str) -> str:
        """``text`` with every merge field replaced by its token."""
        out, last = [], 0
        for field in merge.parse(text, self.attributes):
            out.append(text[last:field.start])
            out.append(self._token_for(field))
            last = field.end
        out.append(text[last:])
        return "".join(out)

    def link(self, name: str, default: str) -> str:
        """The token of a per-recipient link (``merge.LINK_FIELDS``) that composition fills;
        ``default`` serves where no recipient is known (the web archive)."""
        if name not in merge.LINK_FIELDS:
            raise ValueError(f"{name!r} is not one of {merge.LINK_FIELDS}")
        return self._token_for(MergeField(name, default, 0, 0))

    def restore(self, text: str) -> str:
        """Placeholders that markdown-it percent-encoded in link targets, restored."""
        return self._encoded.sub(lambda m: merge.token(int(m.group(1)), self.salt), text)

    def bind_url(self, url: str) -> str:
        """A URL that holds merge fields, as the placeholder of one link field; other URLs
        (and the per-recipient links, which composition makes itself) as they are."""
        url = self.restore(url)
        inner = [self.fields.get(m.group(0)) for m in self.pattern.finditer(url)]
        if not inner or all(f is not None and f.field in merge.LINK_FIELDS for f in inner) and self.pattern.fullmatch(url):
            return url
        default = merge.fill_url(url, self.pattern, self._default_of)
        return self._token_for(MergeField(merge.URL_FIELD, default, 0, 0, template=url))

    def _default_of(self, index: int) -> str:
        field = self.fields.get(merge.token(index, self.salt))
        return field.default if field is not None else ""

    def bind_html_urls(self, html: str) -> str:
        """Every ``href``/``src`` attribute of the final HTML that holds placeholders, bound."""
        def one(m: re.Match[str]) -> str:
            if self.salt and f"%MF{self.salt}" not in m.group(2):
                return m.group(0)
            bound = self.bind_url(htmllib.unescape(m.group(2)))
            return m.group(1) + htmllib.escape(bound) + m.group(3)
        return _URL_ATTR.sub(one, html)

    def unsalted(self, *outputs: str) -> bool:
        """Whether the salt can be taken out: nothing in ``outputs`` looks like an unsalted
        placeholder, so every one left after ``unsalt`` is one of ours."""
        return not any(_UNSALTED.search(text) for text in outputs)

    def unsalt(self, text: str) -> str:
        return text.replace(f"%%MF{self.salt}", "%%MF") if self.salt else text

    def unsalted_fields(self) -> dict[str, MergeField]:
        return {self.unsalt(tok): (f if not f.template else
                                   MergeField(f.field, f.default, f.start, f.end, self.unsalt(f.template)))
                for tok, f in self.fields.items()}
