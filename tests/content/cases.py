"""A corpus of malformed editions: each case is a minimal edition (plus extra files) and the
exact errors `newsletter check` must report, as 'file:line:column: field: message'."""
from __future__ import annotations

from dataclasses import dataclass, field

HEAD = """number: 7
date: 2026-12-01
languages: [en, de]
subject: {en: December news from the network, de: Neues im Dezember aus dem Netzwerk}
preheader: Dates and stories
blocks:
"""
BLOCK = """  - type: article
    title: A title
    body: Some text.
"""


@dataclass
class Case:
    name: str
    edition: str
    expected: list[str]
    files: dict[str, str] = field(default_factory=dict)


E = "issues/bad/edition.yaml"

CASES = [
    Case("unknown top-level key", HEAD + BLOCK + "subjekt: Hello\n",
         [f"{E}:10:1: subjekt: unknown key 'subjekt'; did you mean 'subject'?"]),
    Case("yaml syntax error", HEAD + BLOCK + "  - type: [divider\n",
         [f"{E}:11:1: YAML syntax error: did not find expected ',' or ']' "
          "(while parsing a flow sequence)"]),
    Case("unknown block type", HEAD + "  - type: artcle\n    title: x\n",
         [f"{E}:7:5: blocks[0]: unknown type 'artcle'; did you mean 'article'? expected one of: "
          "hero, article, events, cta, resources, quote, image, cards, divider, markdown"]),
    Case("unknown key in a block", HEAD + BLOCK + "    titel: Another\n",
         [f"{E}:10:5: blocks[0].titel: unknown key 'titel'; did you mean 'title'?"]),
    Case("unknown segment", HEAD + BLOCK + "    audience: leader\n",
         [f"{E}:10:5: blocks[0].audience: unknown segment 'leader'; did you mean 'leaders'?"]),
    Case("relative button link", HEAD + BLOCK + "    button:\n      label: Go\n      url: /programme\n",
         [f"{E}:12:7: blocks[0].button.url: expected an absolute http(s) or mailto: link, got '/programme'"]),
    Case("missing image file", HEAD + BLOCK + "    image: images/nope.png\n    alt: A photo\n",
         [f"{E}:10:5: blocks[0].image: image file 'images/nope.png' not found in bad/"]),
    Case("image without alt", HEAD + BLOCK + "    image: https://cdn.example.org/a.png\n",
         [f"{E}:7:5: blocks[0]: an image needs alt text: add 'alt:' describing it for people who cannot see it"]),
    Case("impossible date", HEAD.replace("2026-12-01", "2026-13-01") + BLOCK,
         [f"{E}:2:1: date: expected a valid date or datetime, month value is outside "
          "expected range of 1-12; got '2026-13-01'"]),
    Case("unknown time zone", HEAD + "  - type: events\n    title: Dates\n    events:\n"
         "      - title: Meeting\n        start: 2026-12-10T10:00\n        timezone: Europe/Berln\n"
         "        place: Stuttgart\n",
         [f"{E}:12:9: blocks[0].events[0].timezone: expected an IANA time zone like 'Europe/Berlin' or 'UTC', got 'Europe/Berln'"]),
    Case("event ends before it starts", HEAD + "  - type: events\n    title: Dates\n    events:\n"
         "      - title: Meeting\n        start: 2026-12-10T10:00\n        end: 2026-12-10T09:00\n"
         "        timezone: UTC\n        online: https://meet.example.org/x\n",
         [f"{E}:10:9: blocks[0].events[0]: end (2026-12-10 09:00) must be after start (2026-12-10 10:00)"]),
    Case("undeclared language", HEAD.replace("[en, de]", "[en, fr]").replace("de: Neues im Dezember aus dem Netzwerk", "fr: Nouvelles de décembre") + BLOCK,
         [f"{E}:3:17: languages[1]: language 'fr' is not declared in newsletter.yaml (languages.available: de, en, es)"]),
    Case("text in a language the edition does not have", HEAD + "  - type: article\n    title: {en: A title, es: Un título}\n",
         [f"{E}:8:26: blocks[0].title.es: language 'es' is not one of this edition's languages (en, de)"]),
    Case("unknown merge field inside Markdown", HEAD + "  - type: markdown\n    body: |\n      First line.\n\n"
         "      Dear {{ frist_name }}, welcome.\n",
         [f"{E}:11:12: blocks[0].body: unknown merge field 'frist_name'; did you mean 'first_name'?"]),
    Case("relative link inside Markdown", HEAD + "  - type: markdown\n    body: |\n      Intro.\n"
         "      See [the page](/about) for more.\n",
         [f"{E}:10:22: blocks[0].body: link: expected an absolute http(s) or mailto: link, got '/about'"]),
    Case("alias refused", HEAD + "  - &a {type: divider}\n  - *a\n",
         [f"{E}:7:5: anchors (&name) are not allowed; write the value out"]),
    Case("version-like number", HEAD.replace("number: 7", "number: 1.10") + BLOCK,
         [f"{E}:1:1: number: expected a valid integer, unable to parse string as an integer; got '1.10'"]),
    Case("duplicate key", HEAD + BLOCK + "    title: Again\n",
         [f"{E}:10:5: duplicate key 'title' (first given on line 8)"]),
    Case("missing required key", HEAD.replace("subject: {en: December news from the network, de: Neues im Dezember aus dem Netzwerk}\n", "") + BLOCK,
         [f"{E}:1:1: subject: missing required key 'subject'"]),
    Case("bad key in an included Markdown file", HEAD + "  - file: story.md\n",
         ["issues/bad/story.md:3:1: blocks[0].subtitle: unknown key 'subtitle'; did you mean 'title'?"],
         files={"story.md": "---\ntype: article\nsubtitle: Oops\ntitle: Story\n---\nBody text.\n"}),
    Case("unknown merge field in an included Markdown body", HEAD + "  - file: story.md\n",
         ["issues/bad/story.md:7:7: blocks[0].body.en: unknown merge field 'nickname'; did you mean 'name'?"],
         files={"story.md": "---\ntype: article\ntitle: Story\n---\nFirst paragraph.\n\nHello {{ nickname }}.\n"}),
    Case("tab indentation", HEAD + "  - type: divider\n\t- type: divider\n",
         [f"{E}:8:1: YAML syntax error: found a tab character that violates indentation "
          "(while scanning a plain scalar); use spaces, not tabs, to indent"]),
    Case("several mistakes at once", HEAD + "  - type: article\n    titel: x\n  - type: image\n    src: https://cdn.example.org/x.png\n",
         [f"{E}:7:5: blocks[0].title: missing required key 'title'",
          f"{E}:8:5: blocks[0].titel: unknown key 'titel'; did you mean 'title'?",
          f"{E}:9:5: blocks[1].alt: missing required key 'alt'"]),
]
