"""Fuzzing (hypothesis): random YAML and Markdown structures, laced with hostile snippets, and
random subscriber values go through `newsletter check`, `build` and composition.

Whatever arrives: never a traceback or a crash, and nothing composed or built ever holds a
``javascript:``/``data:``/``vbscript:`` link or image, or an ``on...=`` event attribute."""
from __future__ import annotations

import html as htmllib
import re
import shutil
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from newsletter.cli import main
from newsletter.compose.composer import Composer, Recipient
from newsletter.content.loader import load_edition
from newsletter.core.config import load_workspace
from newsletter.core.errors import NewsletterError
from newsletter.publish.build import build_edition
from newsletter.render import render_edition

from tests.support.workspaces import ROOT, copy_workspace

HOSTILE = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "&#106;avascript:alert(1)",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '" onmouseover="alert(1)', "' onfocus='x",
    "<a href='javascript:alert(1)'>x</a>", "[x](javascript:alert(1))", "[x](<javascript:alert(1)>)",
    "![a](data:image/svg+xml,<svg onload=alert(1)>)", "[x](data:text/html,hi)", "<javascript:alert(1)>",
    "{{ first_name }}", '{{ attributes.centre or "https://ok.example.org" }}',
    '{{ attributes.centre or "javascript:alert(1)" }}', "[a]({{ attributes.centre }})",
    '[a]({{ attributes.centre or "https://ok.example.org/c" }})', "https://ok.example.org/?n={{ first_name }}",
    "%%MF0%%", "%%MF1%%", "%25%25MF0%25%25", "*|FNAME|*", "{first_name}", "{{", "}}",
    "\u200d", "\u00a0", "\x0b", "\ufeff", "\u202e", "\\", "\n- item\n", "\n# Heading\n", "\n```\ncode\n```\n",
    "TODO", "https://ok.example.org/a b", "mailto:?cc=x@example.org", "mailto:x@example.org",
    "\U0001F469\u200d\U0001F467", "\u0645\u064e\u0631\u0652", "e\u0301",
]
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
FOLDER = "2099-12"
NOW = datetime(2026, 11, 3, 9, 30, tzinfo=timezone.utc)

texts = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), max_size=4).map("".join)
links = st.one_of(st.sampled_from(HOSTILE), st.just("https://ok.example.org/x"), texts)
language_texts = st.one_of(texts, st.dictionaries(st.sampled_from(["en", "de", "xx", "*"]), texts, max_size=3))
anything = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), texts),
                        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                st.dictionaries(st.sampled_from(["type", "title", "body", "url", "x"]),
                                                                inner, max_size=3)),
                        max_leaves=12)


def block(kind: str) -> st.SearchStrategy[dict]:
    base = {"type": st.just(kind), "title": language_texts}
    extra = {
        "article": {"body": language_texts, "link": links, "image": st.sampled_from(["https://ok.example.org/a.png", "javascript:x", "../x.png"]), "alt": language_texts},
        "markdown": {"body": language_texts},
        "cta": {"text": language_texts, "button": st.fixed_dictionaries({"label": language_texts, "url": links})},
        "image": {"src": st.sampled_from(["https://ok.example.org/a.png", "data:image/png;base64,AA=="]), "alt": language_texts, "link": links},
        "events": {"events": st.lists(st.fixed_dictionaries(
            {"title": language_texts, "start": st.sampled_from(["2099-12-10T10:00", "10.12.2099", "x"]),
             "timezone": st.sampled_from(["UTC", "Europe/Berlin", "Berlin", "localtime"]),
             "online": links}), min_size=1, max_size=2)},
        "resources": {"items": st.lists(st.fixed_dictionaries({"name": language_texts, "url": links}), min_size=1, max_size=2)},
    }[kind]
    optional = {k: v for k, v in extra.items()}
    return st.fixed_dictionaries(base, optional=optional)


blocks = st.one_of(*(block(k) for k in ("article", "markdown", "cta", "image", "events", "resources")), anything)
editions = st.fixed_dictionaries(
    {"number": st.one_of(st.just(99), st.integers(-1, 10**9), texts), "date": st.sampled_from(["2099-12-01", "01.12.2099", ""]),
     "languages": st.sampled_from([["en"], ["en"], ["en", "de"], "en"]), "subject": language_texts,
     "blocks": st.lists(blocks, min_size=0, max_size=3)},
    optional={"preheader": language_texts, "unknown": anything})
# Editions that pass validation, with hostile but valid texts, so that rendering, building and
# composing see them (a wholly random edition rarely gets past the schema).
VALID_BITS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '" onmouseover="alert(1)',
              "' onfocus='x", "&#106;avascript:alert(1)", "%%MF0%%", "%%MF1%%", "%25%25MF0%25%25",
              "{{ first_name }}", '{{ first_name or "friends" }}', "[x](https://ok.example.org/p)",
              '[a]({{ attributes.centre or "https://ok.example.org/c" }})', "**bold** _it_",
              "[m](mailto:x@example.org)", "\u200d", "\u00a0", "e\u0301", "\U0001F469\u200d\U0001F467",
              "\u0645\u064e\u0631\u0652", "\n\n- a\n- b\n\n", "`code`", "\\", "javascript:alert(1)"]
valid_texts = st.lists(st.one_of(st.sampled_from(VALID_BITS), st.text(st.characters(whitelist_categories=("L", "N")),
                                                                           min_size=1, max_size=10)),
                       min_size=1, max_size=4).map(" ".join).map(lambda t: t if t.strip() else "Text")
valid_links = st.sampled_from(["https://ok.example.org/x", '{{ attributes.centre or "https://ok.example.org/c" }}',
                               "https://ok.example.org/?n={{ first_name }}&c={{ attributes.centre }}",
                               "mailto:x@example.org", '{{ attributes.role or "mailto:a@example.org" }}'])
valid_blocks = st.one_of(
    st.fixed_dictionaries({"type": st.just("article"), "title": valid_texts, "body": valid_texts},
                          optional={"link": valid_links, "button": st.fixed_dictionaries({"label": valid_texts, "url": valid_links}),
                                    "image": st.just("https://ok.example.org/a.png")}).map(
        lambda b: {**b, "alt": "A photo"} if "image" in b else b),
    st.fixed_dictionaries({"type": st.just("markdown"), "body": valid_texts}),
    st.fixed_dictionaries({"type": st.just("cta"), "title": valid_texts,
                           "button": st.fixed_dictionaries({"label": valid_texts, "url": valid_links})}),
    st.fixed_dictionaries({"type": st.just("image"), "src": st.just("https://ok.example.org/a.png"),
                           "alt": valid_texts, "link": valid_links}),
)
valid_editions = st.fixed_dictionaries(
    {"number": st.just(99), "date": st.just("2099-12-01"), "languages": st.just(["en"]),
     "subject": valid_texts, "preheader": valid_texts, "blocks": st.lists(valid_blocks, min_size=1, max_size=3)})

markdown_files = st.tuples(st.dictionaries(st.sampled_from(["type", "title", "body", "alt"]),
                                           st.one_of(st.just("article"), texts), max_size=3), texts)


@pytest.fixture(scope="module")
def fuzz_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample workspace's settings and theme, without editions (each example writes one)."""
    return copy_workspace(ROOT, tmp_path_factory.mktemp("fuzz") / "ws", [])


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.found += [(tag, name, value or "") for name, value in attrs]


def assert_safe(html: str, where: str) -> None:
    parser = _Attributes()
    parser.feed(html)
    for tag, name, value in parser.found:
        assert not name.startswith("on"), (where, tag, name, value)
        if name in ("href", "src", "action", "formaction", "background", "poster"):
            squeezed = re.sub(r"[\x00-\x20\x7f-\x9f\u00a0\u200b-\u200f\ufeff]", "", htmllib.unescape(value)).lower()
            assert not squeezed.startswith(BAD_SCHEMES), (where, tag, name, value)


def write(ws: Path, edition: dict, md: tuple[dict, str] | None, mangle: tuple[int, str] | None) -> None:
    folder = ws / "issues" / FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if md is not None:
        meta, body = md
        front = yaml.safe_dump(meta, allow_unicode=True) if meta else ""
        (folder / "story.md").write_text(f"---\n{front}---\n{body}\n", encoding="utf-8", errors="surrogatepass")
        edition = {**edition, "blocks": [*(edition["blocks"] if isinstance(edition["blocks"], list) else []), {"file": "story.md"}]}
    text = yaml.safe_dump(edition, allow_unicode=True, sort_keys=False)
    if mangle is not None:
        at, insert = mangle
        at %= len(text) + 1
        text = text[:at] + insert + text[at:]
    (folder / "edition.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")


FUZZ = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                         HealthCheck.data_too_large])
subscriber_values = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30)), min_size=3, max_size=3)


@FUZZ
@given(edition=editions, md=st.none() | markdown_files, mangle=st.none() | st.tuples(st.integers(0, 10**4), texts),
       values=subscriber_values)
def test_random_editions_and_subscribers_never_crash_or_leak_a_script_link(
        fuzz_ws: Path, edition: dict, md, mangle, values: list[str]) -> None:
    exercise(fuzz_ws, edition, md, mangle, values, must_load=False)


@FUZZ
@given(edition=valid_editions, values=subscriber_values)
def test_valid_editions_with_hostile_texts_build_and_compose_safely(fuzz_ws: Path, edition: dict,
                                                                     values: list[str]) -> None:
    exercise(fuzz_ws, edition, None, None, values, must_load=True)


def exercise(fuzz_ws: Path, edition: dict, md, mangle, values: list[str], must_load: bool) -> None:
    write(fuzz_ws, edition, md, mangle)
    result = CliRunner().invoke(main, ["-C", str(fuzz_ws), "check", FOLDER])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    ws = load_workspace(fuzz_ws)
    try:
        loaded = load_edition(ws, FOLDER)
    except NewsletterError as exc:
        assert not must_load, exc
        assert result.exit_code == 1   # check said so too
        return
    build = build_edition(ws, FOLDER, fuzz_ws / "build" / FOLDER)
    for page in (build.out_dir).glob("*.html"):
        assert_safe(page.read_text(encoding="utf-8"), str(page))
    first, centre, role = values
    person = Recipient(id=1, email="reader@example.org", name=first,
                       merge_data={"first_name": first, "attributes": {"centre": centre, "role": role}})
    for variant in render_edition(ws, loaded):
        assert_safe(variant.html, variant.key)
        message = Composer(variant, ws.settings, b"k" * 32, clock=lambda: NOW, campaign="1").compose(person)
        msg = BytesParser(policy=policy.default).parsebytes(bytes(message))
        assert_safe(msg.get_body(("html",)).get_content(), f"composed {variant.key}")
        text = msg.get_body(("plain",)).get_content()
        assert not re.search(r"^\[\d+\]\s*(javascript|data|vbscript):", text, re.M | re.I), text

