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
    edition: str | bytes
    expected: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    # name in the edition folder -> link target, relative to the edition folder
    links: dict[str, str] = field(default_factory=dict)
    # files beside the edition folder (workspace-relative), e.g. what a link points to
    outside: dict[str, str] = field(default_factory=dict)
    strict: bool = False   # run `check --strict`: the expected lines are warnings


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
         [f"{E}:2:1: date: expected a date written 2026-12-03 (year-month-day), got '2026-13-01'; "
          "there is no such day"]),
    Case("unknown time zone", HEAD + "  - type: events\n    title: Dates\n    events:\n"
         "      - title: Meeting\n        start: 2026-12-10T10:00\n        timezone: Europe/Berln\n"
         "        place: Stuttgart\n",
         [f"{E}:12:9: blocks[0].events[0].timezone: expected an IANA time zone like 'Europe/Berlin' or 'UTC', got 'Europe/Berln'; did you mean 'Europe/Berlin'?"]),
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


# -- issue 16: security, mistakes that pass, errors that lose their place ---------------------
SECRET = "root:x:0:0:secret line from a system file\n"
EVENT = ("  - type: events\n    title: Dates\n    events:\n"
         "      - title: Meeting\n        start: 2026-12-10T10:00\n        timezone: {tz}\n"
         "        place: Stuttgart\n")


def _deep(levels: int) -> str:
    return HEAD + BLOCK + "    title: " + "[" * levels + "x" + "]" * levels + "\n"


CASES += [
    Case("translation symlinked to a file outside the edition", HEAD + "  - file: story.md\n",
         [f"{E}:7:5: blocks[0].file: translation 'story.de.md' leads outside the edition folder "
          "through a symbolic link; copy the file into bad/"],
         files={"story.md": "---\ntype: article\ntitle: Story\n---\nBody.\n"},
         links={"story.de.md": "../../secret.txt"}, outside={"secret.txt": SECRET}),
    Case("included file symlinked outside the edition", HEAD + "  - file: story.md\n",
         [f"{E}:7:5: blocks[0].file: Markdown file 'story.md' leads outside the edition folder "
          "through a symbolic link; copy the file into bad/"],
         links={"story.md": "../../secret.md"},
         outside={"secret.md": "---\ntype: article\ntitle: Secret\n---\nSecret body.\n"}),
    Case("included file reached with ..", HEAD + "  - file: ../other/story.md\n",
         [f"{E}:7:5: blocks[0].file: Markdown file '../other/story.md' leads outside the edition "
          "folder; copy the file into bad/"],
         outside={"issues/other/story.md": "---\ntype: article\ntitle: Other\n---\nBody.\n"}),
    Case("image symlinked outside the edition", HEAD + BLOCK + "    image: photo.png\n    alt: A photo\n",
         [f"{E}:10:5: blocks[0].image: image 'photo.png' leads outside the edition folder through "
          "a symbolic link; copy the file into bad/"],
         links={"photo.png": "../../secret.txt"}, outside={"secret.txt": SECRET}),
    Case("Markdown image outside the edition", HEAD + "  - type: markdown\n    body: |\n      Intro.\n\n"
         "      ![A photo](../other/photo.png)\n",
         [f"{E}:11:18: blocks[0].body: image '../other/photo.png' leads outside the edition folder; "
          "copy the file into bad/"],
         outside={"issues/other/photo.png": "PNG"}),
    Case("empty image file", HEAD + BLOCK + "    image: photo.png\n    alt: A photo\n",
         [f"{E}:10:5: blocks[0].image: image file 'photo.png' is empty (0 bytes); copy it again"],
         files={"photo.png": b""}),
    Case("empty image file in Markdown", HEAD + "  - type: markdown\n    body: 'See ![the hall](hall.jpg)'\n",
         [f"{E}:8:28: blocks[0].body: image file 'hall.jpg' is empty (0 bytes); copy it again"],
         files={"hall.jpg": b""}),
    Case("YAML nested 1,000 levels", _deep(1000),
         [f"{E}:10:41: lists and mappings are nested more than 32 levels deep; an edition needs "
          "about 8: check the indentation and brackets"]),
    Case("YAML nested 100,000 levels", _deep(100_000),
         [f"{E}:10:41: lists and mappings are nested more than 32 levels deep; an edition needs "
          "about 8: check the indentation and brackets"]),
    Case("YAML nested by indentation", HEAD + BLOCK + "    title:\n" + "".join(
        "  " * (i + 3) + f"k{i}:\n" for i in range(40)) + "  " * 43 + "x\n",
         [f"{E}:40:65: lists and mappings are nested more than 32 levels deep; an edition needs "
          "about 8: check the indentation and brackets"]),
    Case("vertical tab pasted into a title", HEAD + "  - type: article\n    title: A\x0btitle\n",
         [f"{E}:8:13: invisible vertical tab U+000B (often pasted from a word processor); delete it "
          "or retype the text around it"]),
    Case("form feed in a Markdown file", HEAD + "  - file: story.md\n",
         ["issues/bad/story.md:6:7: invisible form feed U+000C (often pasted from a word processor); "
          "delete it or retype the text around it"],
         files={"story.md": "---\ntype: article\ntitle: Story\n---\nFirst.\nSecond\x0c paragraph.\n"}),
    Case("C1 control character from a Windows file", HEAD + "  - type: article\n    title: \"Quote \x93here\x94\"\n",
         [f"{E}:8:19: invisible control character U+0093 (often pasted from a word processor); "
          "delete it or retype the text around it"]),
    Case("UTF-16 without byte order mark", (HEAD + BLOCK).encode("utf-16-le"),
         [f"{E}:1:1: file looks like UTF-16 without a byte order mark (Windows \"Unicode\"); save it "
          "as UTF-8 (in Notepad: Save as > Encoding: UTF-8)"]),
    Case("Latin-1 file", (HEAD + "  - type: article\n    title: Mütter\n").encode("latin-1"),
         [f"{E}:8:13: file is not valid UTF-8 (byte 0xFC; perhaps saved as Windows-1252 or Latin-1); "
          "save it as UTF-8"]),
]

MD = "  - type: markdown\n    body: |\n      Intro.\n\n"
CASES += [
    Case("link whose merge-field default is javascript:", HEAD + MD +
         '      Visit [your centre]({{ attributes.centre or "javascript:alert(1)" }}) today.\n',
         [f"{E}:11:27: blocks[0].body: link: expected an absolute http(s) or mailto: link, got "
          "'javascript:alert(1)' (a merge field that starts a link needs a default that is a link "
          'itself: {{ attributes.site or "https://example.org" }})']),
    Case("button whose merge-field default is data:", HEAD + BLOCK +
         "    button:\n      label: Go\n      url: '{{ attributes.centre or \"data:text/html,hi\" }}'\n",
         [f"{E}:12:7: blocks[0].button.url: expected an absolute http(s) or mailto: link, got "
          "'data:text/html,hi' (a merge field that starts a link needs a default that is a link "
          'itself: {{ attributes.site or "https://example.org" }})']),
    Case("link that is a merge field without default", HEAD + BLOCK + "    link: '{{ attributes.centre }}'\n",
         [f"{E}:10:5: blocks[0].link: expected an absolute http(s) or mailto: link, got '' (a merge "
          "field that starts a link needs a default that is a link itself: "
          '{{ attributes.site or "https://example.org" }})']),
    Case("Mailchimp merge tag", HEAD + "  - type: article\n    title: Hello *|FNAME|*\n",
         [f"{E}:8:18: blocks[0].title: '*|FNAME|*' is another tool's merge tag and would be mailed "
          "as it stands; did you mean {{ first_name }}?"]),
    Case("single-brace, percent and Word merge tags", HEAD + MD.replace("Intro.", "Liebe {first_name},") +
         "      dear %FIRSTNAME% and «Vorname».\n",
         [f"{E}:9:13: blocks[0].body: '{{first_name}}' is another tool's merge tag and would be mailed "
          "as it stands; did you mean {{ first_name }}?",
          f"{E}:11:12: blocks[0].body: '%FIRSTNAME%' is another tool's merge tag and would be mailed "
          "as it stands; did you mean {{ first_name }}?",
          f"{E}:11:28: blocks[0].body: '«Vorname»' is another tool's merge tag and would be mailed "
          "as it stands; did you mean {{ first_name }}?"]),
    Case("Brevo-style field in our braces", HEAD + "  - type: article\n    title: 'Hi {{ contact.FIRSTNAME }}'\n",
         [f"{E}:8:16: blocks[0].title: unknown merge field 'contact.FIRSTNAME'; did you mean {{{{ first_name }}}}?"]),
    Case("Mailchimp tag in a link field", HEAD + BLOCK + "    link: https://example.org/?n=*|FNAME|*\n",
         [f"{E}:10:5: blocks[0].link: '*|FNAME|*' is another tool's merge tag and would be mailed "
          "as it stands; did you mean {{ first_name }}?"]),
    Case("triple braces", HEAD + "  - type: article\n    title: '{{{first_name}}}'\n",
         [f"{E}:8:13: blocks[0].title: '{{{{{{first_name}}}}}}' is another tool's merge tag and would be "
          "mailed as it stands; did you mean {{ first_name }}?"]),
    Case("dollar-brace tag and a custom attribute", HEAD + "  - type: article\n    title: 'For ${centre} and [[Nachname]]'\n",
         [f"{E}:8:17: blocks[0].title: '${{centre}}' is another tool's merge tag and would be mailed "
          "as it stands; did you mean {{ attributes.centre }}?",
          f"{E}:8:31: blocks[0].title: '[[Nachname]]' is another tool's merge tag and would be mailed "
          "as it stands; did you mean {{ last_name }}?"]),
    Case("no-break space inside a link field", HEAD + BLOCK + '    link: "https://example.org/a\u00a0b"\n',
         [f"{E}:10:5: blocks[0].link: a link may not hold U+00A0 (no-break space); got 'https://example.org/a\\xa0b'"]),
    Case("no-break space inside a Markdown link", HEAD + "  - type: markdown\n    body: 'See [the page](https://example.org/a\u00a0b).'\n",
         [f"{E}:8:27: blocks[0].body: link: a link may not hold U+00A0 (no-break space); got 'https://example.org/a\\xa0b'"]),
    Case("zero-width space inside a Markdown link", HEAD + "  - type: markdown\n    body: 'See [the page](https://example.org/a\u200bb).'\n",
         [f"{E}:8:27: blocks[0].body: link: a link may not hold U+200B (zero width space); got 'https://example.org/a\\u200bb'"]),
    Case("mailto without an address", HEAD + "  - type: markdown\n    body: 'Write [to us](mailto:?cc=office@example.org).'\n",
         [f"{E}:8:26: blocks[0].body: link: a mailto: link needs an address (mailto:office@example.org), "
          "got 'mailto:?cc=office@example.org'"]),
    Case("mailto in a button without a domain", HEAD + BLOCK + "    button:\n      label: Mail\n      url: mailto:office@\n",
         [f"{E}:12:7: blocks[0].button.url: a mailto: link needs an address (mailto:office@example.org), "
          "got 'mailto:office@'"]),
]

CASES += [
    Case("broken front matter in an included file", HEAD + "  - file: story.md\n",
         ["issues/bad/story.md:4:1: YAML syntax error: did not find expected ',' or ']' "
          "(while parsing a flow sequence)"],
         files={"story.md": "---\ntype: article\ntitle: [Story\n---\nBody.\n"}),
    Case("front matter that is never closed", HEAD + "  - file: story.md\n",
         ["issues/bad/story.md:1:1: front matter starts with '---' but has no closing '---' line"],
         files={"story.md": "---\ntype: article\ntitle: Story\nBody.\n"}),
]

EVENTS = "  - type: events\n    title: Dates\n    events:\n      - title: Meeting\n"
CASES += [
    Case("skeleton headline left in", HEAD + "  - type: article\n    title: TODO headline\n",
         [f"{E}:8:12: blocks[0].title: placeholder text 'TODO headline' (from the skeleton of "
          "`newsletter new`?): write the real text before sending"]),
    Case("skeleton subject left in one language", HEAD.replace("de: Neues im Dezember aus dem Netzwerk", "de: TODO subject in de") + BLOCK,
         [f"{E}:4:51: subject.de: placeholder text 'TODO subject in de' (from the skeleton of "
          "`newsletter new`?): write the real text before sending"]),
    Case("lorem ipsum inside Markdown", HEAD + MD + "      Lorem ipsum dolor sit amet.\n",
         [f"{E}:11:7: blocks[0].body: placeholder text 'Lorem ipsum dolor sit amet.' (from the skeleton "
          "of `newsletter new`?): write the real text before sending"]),
    Case("empty subject", HEAD.replace("subject: {en: December news from the network, de: Neues im Dezember aus dem Netzwerk}", "subject: ''") + BLOCK,
         [f"{E}:4:1: subject: the subject is empty"]),
    Case("empty button label", HEAD + BLOCK + "    button:\n      label: ' '\n      url: https://example.org\n",
         [f"{E}:11:7: blocks[0].button.label: the label is empty"]),
    Case("two blocks with the same id", HEAD + BLOCK + "    id: news\n" + BLOCK + "    id: news\n",
         [f"{E}:14:5: blocks[1].id: id 'news' is already the id of blocks[0] (line 10); ids name "
          "anchors and must be unique"]),
    Case("edition number of another edition", HEAD.replace("number: 7", "number: 14") + BLOCK,
         [f"{E}:1:1: number: number 14 is already the number of edition 2026-11; the next free number is 15"]),
    Case("time zone localtime", HEAD + EVENTS + "        start: 2026-12-10T10:00\n        timezone: localtime\n"
         "        place: Stuttgart\n",
         [f"{E}:12:9: blocks[0].events[0].timezone: 'localtime' is the zone of the machine that builds "
          "the edition, not of the event; write the event's IANA time zone, like 'Europe/Berlin' or 'UTC'"]),
    Case("time zone by city", HEAD + EVENTS + "        start: 2026-12-10T10:00\n        timezone: Berlin\n"
         "        place: Stuttgart\n",
         [f"{E}:12:9: blocks[0].events[0].timezone: expected an IANA time zone like 'Europe/Berlin' or "
          "'UTC', got 'Berlin'; did you mean 'Europe/Berlin'?"]),
    Case("time zone in lower case", HEAD + EVENTS + "        start: 2026-12-10T10:00\n        timezone: america/sao_paulo\n"
         "        place: Stuttgart\n",
         [f"{E}:12:9: blocks[0].events[0].timezone: expected an IANA time zone like 'Europe/Berlin' or "
          "'UTC', got 'america/sao_paulo'; did you mean 'America/Sao_Paulo'?"]),
    Case("German date", HEAD.replace("2026-12-01", "03.12.2026") + BLOCK,
         [f"{E}:2:1: date: expected a date written 2026-12-03 (year-month-day), got '03.12.2026'; "
          "did you mean 2026-12-03?"]),
    Case("slashed date", HEAD.replace("2026-12-01", "2026/12/03") + BLOCK,
         [f"{E}:2:1: date: expected a date written 2026-12-03 (year-month-day), got '2026/12/03'; "
          "did you mean 2026-12-03?"]),
    Case("event start in German form", HEAD + EVENTS + "        start: 10.12.2026 10:00\n        timezone: UTC\n"
         "        place: Stuttgart\n",
         [f"{E}:11:9: blocks[0].events[0].start: expected a date and time written 2026-12-03T18:30 "
          "(year-month-dayThour:minute), got '10.12.2026 10:00'; did you mean 2026-12-10T10:00?"]),
    Case("typo in a key inside an events entry", HEAD + EVENTS + "        start: 2026-12-10T10:00\n        timezone: UTC\n"
         "        plase: Stuttgart\n        online: https://meet.example.org/x\n",
         [f"{E}:13:9: blocks[0].events[0].plase: unknown key 'plase'; did you mean 'place'?"]),
    Case("second events entry without place", HEAD + EVENTS + "        start: 2026-12-10T10:00\n        timezone: UTC\n"
         "        place: Stuttgart\n      - title: Second\n        start: 2026-12-11T10:00\n        timezone: UTC\n",
         [f"{E}:14:9: blocks[0].events[1]: an event needs a 'place:' or an 'online:' link"]),
    # warnings, with --strict
    Case("event before the edition's date", HEAD + EVENTS + "        start: 2026-11-10T10:00\n        timezone: UTC\n"
         "        place: Stuttgart\n",
         [f"{E}:11:9: warning: blocks[0].events[0].start: the event starts on 2026-11-10, before the "
          "edition's date (2026-12-01); left over from an earlier edition? [past-event]"], strict=True),
    Case("subject of the previous edition", HEAD.replace(
        "subject: {en: December news from the network, de: Neues im Dezember aus dem Netzwerk}",
        'subject: {en: "November news: peer learning, training and the Grassroots Academy", de: Neues im Dezember}') + BLOCK,
         [f"{E}:4:1: warning: subject: the subject is the same as edition 2026-11's (en); readers take "
          "it for last month's email [repeated]"], strict=True),
    Case("empty alt reported once at its line", HEAD + BLOCK + "    image: https://cdn.example.org/a.png\n    alt: ''\n",
         [f"{E}:11:5: warning: blocks[0].alt: the alt text is empty: screen readers skip the image (right "
          "for a decoration; otherwise say what it shows) [img-alt]"], strict=True),
    Case("short subject at its line", HEAD.replace("December news from the network", "News") + BLOCK,
         [f"{E}:4:11: warning: en: the subject has 4 characters; 10 to 78 show well in inboxes [subject-length]"],
         strict=True),
    Case("fallback at the block's line", HEAD + "  - type: article\n    title: {en: Only English}\n",
         [f"{E}:7:5: warning: de: blocks[0] article 'Only English' falls back to en (title) [fallback]"],
         strict=True),
]
