"""The public site of the newsletter, as files: what `newsletter publish` uploads.

    index.html, index.<lang>.html   the archive's index per language, newest first
    feed.<lang>.xml                 an Atom feed per language (publish/feeds.py)
    logo.<hash>.png                 the organisation's logo when it is a workspace file
    editions.json                   which editions are on the site (read back by the next run)
    <edition>/<lang>.html           an edition for a neutral reader ("view in browser" links here)
    <edition>/images/*.<hash>.*     its images, processed (content/images.py)
    <edition>/calendar/*.<lang>.ics its public events (publish/calendar.py)

Pages are rendered from templates/site/ (overridable per workspace like the email theme) for
nobody in particular: only blocks meant for everyone, merge fields at their defaults, no
token and no personal link. The same editions give the same bytes: nothing reads the clock.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from html import escape
from types import SimpleNamespace
from typing import Any

from newsletter.content import images
from newsletter.content.loader import EDITION_FILE, LoadedEdition, edition_names, load_editions
from newsletter.core.config import Workspace
from newsletter.core.errors import NewsletterError, RenderError, SourceError
from newsletter.core.yamlsrc import load_yaml
from newsletter.publish import feeds
from newsletter.publish.calendar import ics_file
from newsletter.render.calendar import edition_events
from newsletter.render.context import is_rtl, variant_context
from newsletter.render.fields import FieldRegistry, salt_for
from newsletter.render.images import ImageUrl, edition_images, logo_image
from newsletter.render.templates import run
from newsletter.render.theme import environment, strings
from newsletter.subscribers.segments import segment_names

log = logging.getLogger(__name__)
MANIFEST = "editions.json"
# Endonyms for the language switcher; any other language shows its code.
LANGUAGE_NAMES = {
    "ar": "العربية", "bg": "Български", "cs": "Čeština", "da": "Dansk", "de": "Deutsch",
    "el": "Ελληνικά", "en": "English", "es": "Español", "fa": "فارسی", "fi": "Suomi",
    "fr": "Français", "he": "עברית", "hr": "Hrvatski", "hu": "Magyar", "it": "Italiano",
    "nl": "Nederlands", "no": "Norsk", "pl": "Polski", "pt": "Português", "pt-BR": "Português (Brasil)",
    "ro": "Română", "ru": "Русский", "sk": "Slovenčina", "sl": "Slovenščina", "sr": "Српски",
    "sv": "Svenska", "sw": "Kiswahili", "tr": "Türkçe", "uk": "Українська", "ur": "اردو",
}


class NotPublishable(NewsletterError):
    """An edition named for publishing opts out of the archive."""


@dataclass
class Site:
    """Every file of the site: path under the site root -> bytes."""

    files: dict[str, bytes] = field(default_factory=dict)
    editions: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)

    def add(self, path: str, data: bytes | str) -> None:
        self.files[path] = data.encode("utf-8") if isinstance(data, str) else data


def choose_editions(ws: Workspace, named: list[str], already: list[str], today: dt.date) -> list[str]:
    """The editions on the site: those named, those already published, and (when none is
    named) every edition dated today or earlier. A draft dated next month stays private
    until it is named or its date comes."""
    known = set(edition_names(ws))
    chosen = set(named) | {n for n in already if n in known}
    if not named:
        chosen |= {n for n in known if _dated(ws, n) <= today}
    return sorted(chosen)


def _dated(ws: Workspace, name: str) -> dt.date:
    """An edition's ``date:`` read without validating the rest (a broken draft dated next
    month must not stop today's publishing); no readable date counts as not yet due."""
    try:
        data, _ = load_yaml(ws.issues_dir / name / EDITION_FILE)
    except SourceError:
        return dt.date.max
    value = data.get("date") if isinstance(data, dict) else None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return dt.date.max


def build_site(ws: Workspace, names: list[str], *, named: list[str] = ()) -> Site:
    """Every file of the site holding ``names`` (editions with ``archive: false`` are left
    out; naming one explicitly is an error)."""
    loaded_all = load_editions(ws, names, segment_names(ws))
    refused = [e.name for e in loaded_all if not e.edition.archive and e.name in named]
    if refused:
        raise NotPublishable(f"edition {', '.join(refused)} has 'archive: false' in its edition.yaml: "
                             "it is never published; remove that line to publish it")
    public = sorted((e for e in loaded_all if e.edition.archive),
                    key=lambda e: (e.edition.date, e.edition.number, e.name), reverse=True)
    site = Site(editions=[e.name for e in public], languages=site_languages(ws, public))
    env = environment(ws)
    logo = logo_image(ws)
    if logo is not None:
        site.add(logo.name, images.process(logo))
    entries: dict[str, list[feeds.Entry]] = {lang: [] for lang in site.languages}
    for loaded in public:
        for lang, entry in _edition_files(ws, env, site, loaded, logo).items():
            entries[lang].append(entry)
    for lang in site.languages:
        site.add(index_file(ws, lang), _index_page(ws, env, site, lang, entries[lang], logo))
        site.add(feed_file(lang), feeds.atom(ws, lang, entries[lang], feed_url(ws, lang), page_url(ws, index_file(ws, lang))))
    site.add(MANIFEST, json.dumps({"editions": sorted(site.editions)}, indent=2) + "\n")
    return site


def site_languages(ws: Workspace, public: list[LoadedEdition]) -> list[str]:
    """The languages of the site: the default first, then in the order newsletter.yaml lists them."""
    used = {lang for e in public for lang in e.edition.languages}
    order = [ws.settings.languages.default] + ws.settings.languages.available
    ranked = sorted(used, key=lambda lang: (order.index(lang) if lang in order else len(order), lang))
    return ranked or [ws.settings.languages.default]


def index_file(ws: Workspace, lang: str) -> str:
    return "index.html" if lang == ws.settings.languages.default else f"index.{lang}.html"


def feed_file(lang: str) -> str:
    return f"feed.{lang}.xml"


def page_url(ws: Workspace, path: str) -> str:
    return f"{ws.settings.urls.archive.rstrip('/')}/{path}"


def feed_url(ws: Workspace, lang: str) -> str:
    return page_url(ws, feed_file(lang))


def _edition_files(ws: Workspace, env: Any, site: Site, loaded: LoadedEdition,
                   logo: images.Planned | None) -> dict[str, feeds.Entry]:
    """Pages, images and calendar files of one edition; its feed entry per language."""
    name = loaded.name
    for planned in edition_images(ws, loaded).all():
        if planned is not logo:
            site.add(f"{name}/{planned.name}", images.process(planned))
    events = [e for e in edition_events(loaded) if e.audience is None]
    out = {}
    for lang in loaded.edition.languages:
        url = page_url(ws, f"{name}/{lang}.html")
        for entry in events:
            site.add(f"{name}/{entry.ics_name(lang)}", ics_file(ws, loaded, entry, lang, url))
        page, content, context = _edition_page(ws, env, loaded, lang, logo)
        site.add(f"{name}/{lang}.html", page)
        out[lang] = feeds.Entry(edition=name, language=lang, url=url, title=context["subject"],
                                summary=context["preheader"], content=content, date=loaded.edition.date,
                                number=loaded.edition.number)
    return out


def _edition_page(ws: Workspace, env: Any, loaded: LoadedEdition, lang: str,
                  logo: images.Planned | None) -> tuple[str, str, dict[str, Any]]:
    """The page of one edition in one language, the HTML of its blocks (for the feed) and
    the template context (with merge fields at their defaults)."""
    fields = FieldRegistry(ws.settings.merge_attributes, salt_for(loaded.smap.texts.values()))
    # Images relative to the page ("./images/..."), so the site works from any address.
    context = variant_context(ws, loaded, lang, (), "./", fields)
    langs = [code for code in loaded.edition.languages]
    context.update(_chrome(ws, lang, "../", logo))
    context.update(
        title=f"{context['subject']} – {ws.settings.organisation.name}",
        description=context["preheader"],
        canonical=page_url(ws, f"{loaded.name}/{lang}.html"),
        alternates=[_alternate(ws, code, f"{loaded.name}/{code}.html", f"{code}.html") for code in langs],
        x_default=page_url(ws, f"{loaded.name}/{loaded.default_language}.html"),
    )
    page = _defaults(run(ws, env, "site/edition.html.j2", context), fields, loaded)
    # The feed's copy of the blocks: absolute addresses (a feed reader has no page to resolve against).
    absolute = variant_context(ws, loaded, lang, (), page_url(ws, f"{loaded.name}/"), fields)
    content = _defaults(run(ws, env, "site/content.html.j2", {**context, "blocks": absolute["blocks"]}), fields, loaded)
    for key in ("subject", "preheader"):
        context[key] = _defaults(context[key], fields, loaded, html=False)
    return page, content, context


def _index_page(ws: Workspace, env: Any, site: Site, lang: str, entries: list[feeds.Entry],
                logo: images.Planned | None) -> str:
    words = strings(ws, lang)
    context = {
        "lang": lang, "dir": "rtl" if is_rtl(ws, lang) else "ltr", "t": words,
        "title": f"{words.archive} – {ws.settings.organisation.name}", "description": None,
        "canonical": page_url(ws, index_file(ws, lang)),
        "alternates": [_alternate(ws, code, index_file(ws, code), index_file(ws, code)) for code in site.languages],
        "x_default": page_url(ws, index_file(ws, ws.settings.languages.default)),
        "items": [SimpleNamespace(href=f"{e.edition}/{lang}.html", subject=e.title, preheader=e.summary,
                                  number=e.number, date=e.date, date_text=_date_text(e.date, words))
                  for e in entries],
        **_chrome(ws, lang, "", logo),
    }
    return run(ws, env, "site/index.html.j2", context)


def _date_text(day: dt.date, words: SimpleNamespace) -> str:
    from newsletter.render.dates import format_date

    return format_date(day, words)


def _chrome(ws: Workspace, lang: str, root: str, logo: images.Planned | None) -> dict[str, Any]:
    """What every page shows around its content: organisation, logo, feed, index link."""
    org = ws.settings.organisation
    words = strings(ws, lang)
    if logo is not None:
        logo_src: str | None = ImageUrl.sized(root + logo.name, logo.display_width, logo.display_height)
    else:
        logo_src = org.logo
    return {
        "org": SimpleNamespace(name=org.name, postal_address=org.postal_address, website=org.website, logo=logo_src),
        "root": root, "index_file": index_file(ws, lang),
        "feed": SimpleNamespace(url=feed_url(ws, lang), href=root + feed_file(lang),
                                title=f"{org.name} – {words.archive} ({LANGUAGE_NAMES.get(lang, lang)})"),
    }


def _alternate(ws: Workspace, lang: str, path: str, href: str) -> SimpleNamespace:
    return SimpleNamespace(lang=lang, name=LANGUAGE_NAMES.get(lang, lang), url=page_url(ws, path), href=href)


def _defaults(text: str, fields: FieldRegistry, loaded: LoadedEdition, html: bool = True) -> str:
    """Every merge-field token at its default (escaped in HTML): a page nobody in particular
    reads. Links holding merge fields are bound first, as in the email (render/fields.py)."""
    if html:
        text = fields.bind_html_urls(fields.restore(text))

    def value(match) -> str:
        found = fields.fields.get(match.group(0))
        if found is None or found.field in ("unsubscribe_url", "preferences_url"):
            raise RenderError(f"{loaded.name}: the archive page would show a personal link ({match.group(0)}); "
                              "site templates must not print urls.unsubscribe or urls.preferences")
        return escape(found.default) if html else found.default
    return fields.pattern.sub(value, text)
