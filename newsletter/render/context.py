"""What the templates of one variant see: the edition in one language with the audience
blocks shown, the organisation, the links of the footer, the theme's words.

Base URLs come from the settings and the ``asset_base_url`` input, never from the machine:
the same input gives the same context.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable
from urllib.parse import quote

from newsletter.core.config import Workspace
from newsletter.content.loader import LoadedEdition
from newsletter.content.model import text_for
from newsletter.core.errors import RenderError
from newsletter.render.calendar import edition_events, google_url
from newsletter.render.dates import format_date
from newsletter.render.fields import FieldRegistry
from newsletter.content.images import Planned
from newsletter.render.images import EditionImages, ImageUrl, edition_images
from newsletter.render.theme import strings
from newsletter.render.views import ViewContext, block_views

# An edition with at least this many titled sections gets a table of contents under its
# masthead (and hero); shorter ones are read at a glance. The one place this is decided.
TOC_MIN_SECTIONS = 4
# The blocks whose title is a section heading (h2) that the table of contents lists.
TOC_BLOCKS = ("article", "events", "cards", "resources", "cta")


def default_asset_base_url(ws: Workspace, edition: str) -> str:
    """Where an edition's images are published: beside it in the web archive."""
    return f"{ws.settings.urls.archive.rstrip('/')}/{edition}/"


def archive_url(ws: Workspace, edition: str, language: str) -> str:
    """The "view in browser" address of an edition in one language."""
    return f"{ws.settings.urls.archive.rstrip('/')}/{edition}/{language}.html"


def is_rtl(ws: Workspace, language: str) -> bool:
    rtl = ws.settings.languages.rtl
    return language in rtl or language.split("-")[0] in rtl


def variant_context(ws: Workspace, loaded: LoadedEdition, language: str, audiences: tuple[str, ...],
                    asset_base_url: str, fields: FieldRegistry) -> dict[str, Any]:
    """The template context; merge fields become tokens registered in ``fields``."""
    settings, edition = ws.settings, loaded.edition
    base = asset_base_url if asset_base_url.endswith("/") else asset_base_url + "/"
    words = strings(ws, language)
    # Link fields first, so that the footer's links have the same tokens in every edition.
    unsubscribe = fields.link("unsubscribe_url", settings.urls.unsubscribe)
    preferences = fields.link("preferences_url", settings.urls.preferences) if settings.urls.preferences else None
    table = edition_images(ws, loaded)
    cx = ViewContext(language, loaded.default_language, fields, words, image_urls(loaded, base, table),
                     calendar_links(ws, loaded, language))
    shown = [(i, b) for i, b in enumerate(edition.blocks) if b.audience is None or b.audience in audiences]
    org = settings.organisation
    why = org.why if isinstance(org.why, str) else text_for(org.why, language, settings.languages.default)
    blocks = block_views(shown, cx)
    return {
        "lang": language, "dir": "rtl" if is_rtl(ws, language) else "ltr", "rtl": is_rtl(ws, language),
        "t": words, "audiences": audiences,
        "subject": cx.text(edition.subject), "preheader": cx.text(edition.preheader),
        "edition": SimpleNamespace(name=loaded.name, number=edition.number, date=edition.date,
                                   date_text=format_date(edition.date, words)),
        "org": SimpleNamespace(name=org.name, postal_address=org.postal_address, website=org.website,
                               logo=logo_url(org.logo, base, table.logo), why=why,
                               logo_dark=logo_url(org.logo_dark, base, table.logo_dark)),
        "urls": SimpleNamespace(archive=archive_url(ws, loaded.name, language) if edition.archive else None,
                                unsubscribe=unsubscribe,
                                preferences=preferences, website=org.website),
        "blocks": blocks,
        "toc": table_of_contents(blocks),
    }


def table_of_contents(blocks: list[SimpleNamespace]) -> list[SimpleNamespace]:
    """The titled sections of a long edition, in order (anchor, title, fallback language);
    empty when there are fewer than TOC_MIN_SECTIONS."""
    found = [SimpleNamespace(anchor=b.anchor, title=b.title, lang=b.fallback.get("title"))
             for b in blocks if b.type in TOC_BLOCKS and getattr(b, "title", None)]
    return found if len(found) >= TOC_MIN_SECTIONS else []


def calendar_links(ws: Workspace, loaded: LoadedEdition, language: str) -> dict[int, SimpleNamespace]:
    """id(event) -> "Add to calendar" links: the .ics published with the edition (only for
    events everyone may see, in an edition that is published) and a Google Calendar link."""
    public = loaded.edition.archive
    base = default_asset_base_url(ws, loaded.name)
    return {id(e.event): SimpleNamespace(
                ics=base + e.ics_name(language) if public and e.audience is None else None,
                google=google_url(e.event, language, loaded.default_language))
            for e in edition_events(loaded)}


def image_urls(loaded: LoadedEdition, base: str, table: EditionImages) -> Callable[[str], str]:
    """A function from an image reference to its absolute URL (with the size it is shown at):
    local files of the edition folder are published under ``base`` by their hashed names;
    absolute URLs stay as they are."""

    def image_url(ref: str) -> str:
        if loaded.image_file(ref) is None:
            return ref
        planned = table.by_ref.get(ref)
        if planned is None:  # the loader refuses such images; never link outside the edition
            raise RenderError(f"image {ref!r} is not a checked image of edition {loaded.name}")
        return ImageUrl.sized(base + quote(planned.name), planned.display_width, planned.display_height)

    return image_url


def logo_url(logo: str | None, base: str, planned: Planned | None = None) -> str | None:
    """The logo's URL; a logo that is a workspace file is published beside the images (and
    its URL knows the size it is shown at)."""
    if not logo or logo.lower().startswith(("http://", "https://")):
        return logo
    if planned is not None:
        return ImageUrl.sized(base + quote(planned.name), planned.display_width, planned.display_height)
    return base + quote(Path(logo).as_posix().lstrip("/"))


def image_sizes(table: EditionImages, base: str) -> dict[str, tuple[int, int]]:
    """{published URL: (width, height) of the file}, for writing heights into the HTML."""
    return {base + quote(p.name): (p.width, p.height) for p in table.all()}
