"""Model -> Jinja2 -> MJML -> MRML -> css-inline -> HTML, and model -> Jinja2 -> text.

Rendering is pure: base URLs are inputs (``asset_base_url``; the archive and unsubscribe URLs
come from the settings), nothing reads the clock, and the same input gives the same bytes.
It happens once per variant, (language, audience blocks shown); merge fields and the
per-recipient links stay tokens that composition fills.
"""
from __future__ import annotations

import itertools
import logging
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import jinja2
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from ..config import Workspace
from ..content.loader import LoadedEdition
from ..content.merge import MergeSyntaxError
from ..content.model import text_for
from ..errors import RenderError
from ..rendered import RenderedVariant
from . import text as textfmt
from .fields import FieldRegistry, restore_tokens
from .mjml import MjmlError, Traced, diagnose, to_html
from .theme import TracingLoader, environment, strings, template_label
from .views import Md, ViewContext, block_views, view

log = logging.getLogger(__name__)

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"
BLOCK_TEMPLATE = "blocks/{type}.mjml.j2"


class TemplateError(RenderError):
    """A template failed, or wrote MJML that MRML refuses; names the template file and line."""

    def __init__(self, template: str, line: int | None, message: str):
        self.template, self.line, self.message = template, line, message
        where = f"{template}:{line}" if line else template
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Rendering:
    """A rendered variant and the MJML it came from (written by `build` for debugging)."""

    variant: RenderedVariant
    mjml: str


@dataclass
class _Job:
    """Everything one variant's templates need."""

    ws: Workspace
    loaded: LoadedEdition
    language: str
    audiences: tuple[str, ...]
    context: dict[str, Any]
    fields: FieldRegistry


# -- variants -----------------------------------------------------------------------------

def audiences_used(loaded: LoadedEdition) -> list[str]:
    return sorted({b.audience for b in loaded.edition.blocks if b.audience})


def variants(ws: Workspace, loaded: LoadedEdition) -> list[tuple[str, tuple[str, ...]]]:
    """Every (language, audiences) to render: each language with each subset of the audience
    segments the edition's blocks use (a recipient in several segments sees all their blocks)."""
    used = audiences_used(loaded)
    subsets = [c for r in range(len(used) + 1) for c in itertools.combinations(used, r)]
    return [(lang, subset) for lang in loaded.edition.languages for subset in subsets]


def variant_key(language: str, audiences: tuple[str, ...]) -> str:
    return "+".join((language, *audiences))


# -- public API ---------------------------------------------------------------------------

def render_mjml(ws: Workspace, loaded: LoadedEdition, language: str, audiences: tuple[str, ...] = (),
                *, asset_base_url: str | None = None) -> str:
    """The generated MJML of one variant (for debugging; `build` writes it as email.mjml)."""
    job = _job(ws, loaded, language, audiences, asset_base_url)
    return _template(job, environment(ws), HTML_TEMPLATE)


def render_variant(ws: Workspace, loaded: LoadedEdition, language: str, audiences: tuple[str, ...] = (),
                   *, asset_base_url: str | None = None) -> RenderedVariant:
    return render(ws, loaded, language, audiences, asset_base_url=asset_base_url).variant


def render_edition(ws: Workspace, loaded: LoadedEdition, *, asset_base_url: str | None = None) -> list[RenderedVariant]:
    return [r.variant for r in render_all(ws, loaded, asset_base_url=asset_base_url)]


def render_all(ws: Workspace, loaded: LoadedEdition, *, asset_base_url: str | None = None) -> list[Rendering]:
    env = environment(ws)
    return [_render(_job(ws, loaded, lang, aud, asset_base_url), env) for lang, aud in variants(ws, loaded)]


def render(ws: Workspace, loaded: LoadedEdition, language: str, audiences: tuple[str, ...] = (),
           *, asset_base_url: str | None = None) -> Rendering:
    return _render(_job(ws, loaded, language, audiences, asset_base_url), environment(ws))


def render_block_mjml(ws: Workspace, loaded: LoadedEdition, index: int, language: str,
                      *, asset_base_url: str | None = None) -> str:
    """One block's partial rendered alone, as a complete MJML document (for validation)."""
    block = loaded.edition.blocks[index]
    job = _job(ws, loaded, language, (block.audience,) if block.audience else (), asset_base_url)
    item = next(b for b in job.context["blocks"] if b.index == index)
    fragment = _template(job, environment(ws), BLOCK_TEMPLATE.format(type=block.type), block=item)
    return f'<mjml lang="{language}">\n  <mj-body width="600px">\n{fragment}  </mj-body>\n</mjml>\n'


# -- the work -----------------------------------------------------------------------------

def _render(job: _Job, env: Environment) -> Rendering:
    mjml_text = _template(job, env, HTML_TEMPLATE)
    try:
        html = to_html(mjml_text)
    except MjmlError as exc:
        raise _mjml_error(job, str(exc)) from None
    text = _tidy_text(_template(job, env, TEXT_TEMPLATE, refs=textfmt.LinkRefs()))
    variant = RenderedVariant(
        edition=job.loaded.name, language=job.language, audiences=job.audiences,
        subject=job.context["subject"], preheader=job.context["preheader"],
        html=html, text=text, fields=dict(job.fields.fields),
    )
    return Rendering(variant, mjml_text)


def _job(ws: Workspace, loaded: LoadedEdition, language: str, audiences: tuple[str, ...],
         asset_base_url: str | None) -> _Job:
    if language not in loaded.edition.languages:
        raise RenderError(f"edition {loaded.name} has no language {language!r} "
                          f"(its languages: {', '.join(loaded.edition.languages)})")
    shown = tuple(sorted(set(audiences) & set(audiences_used(loaded))))
    base = asset_base_url or default_asset_base_url(ws, loaded.name)
    fields = FieldRegistry(ws.settings.merge_attributes)
    try:
        context = _context(ws, loaded, language, shown, base if base.endswith("/") else base + "/", fields)
    except MergeSyntaxError as exc:  # validated editions never get here
        raise RenderError(f"edition {loaded.name}: {exc}") from None
    return _Job(ws, loaded, language, shown, context, fields)


def default_asset_base_url(ws: Workspace, edition: str) -> str:
    """Where an edition's images are published: beside it in the web archive."""
    return f"{ws.settings.urls.archive.rstrip('/')}/{edition}/"


def archive_url(ws: Workspace, edition: str, language: str) -> str:
    """The "view in browser" address of an edition in one language."""
    return f"{ws.settings.urls.archive.rstrip('/')}/{edition}/{language}.html"


def _context(ws: Workspace, loaded: LoadedEdition, language: str, audiences: tuple[str, ...],
             base: str, fields: FieldRegistry) -> dict[str, Any]:
    settings, edition = ws.settings, loaded.edition
    image_url = _image_urls(loaded, base)
    words = strings(ws, language)
    # Link fields first, so the footer links have the same tokens in every edition.
    unsubscribe = fields.link("unsubscribe_url", settings.urls.unsubscribe)
    preferences = fields.link("preferences_url", settings.urls.preferences) if settings.urls.preferences else None
    cx = ViewContext(language, loaded.default_language, fields, words, image_url)
    subject = cx.text(edition.subject)
    preheader = cx.text(edition.preheader)
    blocks = [(i, b) for i, b in enumerate(edition.blocks) if b.audience is None or b.audience in audiences]
    org = settings.organisation
    why = org.why if isinstance(org.why, str) else text_for(org.why, language, settings.languages.default)
    rtl = language in settings.languages.rtl or language.split("-")[0] in settings.languages.rtl
    return {
        "lang": language, "dir": "rtl" if rtl else "ltr", "rtl": rtl, "t": words,
        "subject": subject, "preheader": preheader, "audiences": audiences,
        "edition": SimpleNamespace(name=loaded.name, number=edition.number, date=edition.date,
                                   date_text=_date_text(edition.date, words)),
        "org": SimpleNamespace(name=org.name, postal_address=org.postal_address, website=org.website,
                               logo=_logo_url(org.logo, base), why=why),
        "urls": SimpleNamespace(archive=archive_url(ws, loaded.name, language), unsubscribe=unsubscribe,
                                preferences=preferences, website=org.website),
        "blocks": block_views(blocks, cx),
    }


def _date_text(day: Any, words: SimpleNamespace) -> str:
    from .dates import format_date

    return format_date(day, words)


def _image_urls(loaded: LoadedEdition, base: str):
    folder = loaded.folder.resolve()

    def image_url(ref: str) -> str:
        path = loaded.image_file(ref)
        if path is None:
            return ref
        try:
            rel = path.relative_to(folder).as_posix()
        except ValueError:  # the loader refuses such images; never link outside the edition
            raise RenderError(f"image {ref!r} is outside the edition folder {loaded.folder}") from None
        return base + quote(rel)

    return image_url


def _logo_url(logo: str | None, base: str) -> str | None:
    if not logo or logo.lower().startswith(("http://", "https://")):
        return logo
    return base + quote(Path(logo).as_posix().lstrip("/"))


def _tidy_text(text: str) -> str:
    """No trailing spaces, at most one empty line in a row, one final newline."""
    lines = [line.rstrip() for line in restore_tokens(text).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


# -- templates and their errors -----------------------------------------------------------

def install_filters(env: Environment) -> Environment:
    env.filters["text"] = _md_text
    env.filters["ref"] = _ref
    env.filters["wrap"] = _wrap
    env.filters["underline"] = textfmt.underline
    return env


@pass_context
def _md_text(ctx: Context, value: Any, indent: str = "") -> str:
    if isinstance(value, Md):
        return value.text(ctx["refs"], indent)
    return textfmt.wrap(str(value), indent=indent)


@pass_context
def _ref(ctx: Context, url: str) -> str:
    return ctx["refs"].ref(url)


def _wrap(value: str, indent: str = "", first: str | None = None) -> str:
    return textfmt.wrap(" ".join(str(value).split()), indent=indent, first=first)


def _template(job: _Job, env: Environment, name: str, **extra: Any) -> str:
    install_filters(env)
    try:
        return env.get_template(name).render(job.context, **extra)
    except jinja2.TemplateSyntaxError as exc:
        label = template_label(job.ws, exc.filename or exc.name or name)
        raise TemplateError(label, exc.lineno, f"template syntax error: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(name, None, f"template {exc.name!r} not found in {job.ws.templates_dir} "
                                        "or the default theme") from exc
    except RenderError:
        raise
    except Exception as exc:  # an undefined name or a failing filter inside a template
        label, line = _template_frame(job.ws, exc)
        raise TemplateError(label or name, line, f"{type(exc).__name__}: {exc}") from exc


def _template_frame(ws: Workspace, exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost template line in the traceback (Jinja rewrites frames to template lines)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".j2", ".mjml", ".txt")):
            return template_label(ws, frame.filename), frame.lineno
    return None, None


def _mjml_error(job: _Job, message: str) -> TemplateError:
    """Re-render with every template line marked, find where MRML trips, name that line."""
    loader_env = install_filters(environment(job.ws, trace=True))
    marked = loader_env.get_template(HTML_TEMPLATE).render(job.context)
    traced = Traced.parse(marked)
    found = diagnose(traced.text)
    assert isinstance(loader_env.loader, TracingLoader)
    if found is None or found[0] is None or traced.source_of(found[0]) is None:
        why = found[1] if found else f"MRML: {message}"
        return TemplateError(template_label(job.ws, _root_file(job)), None, f"invalid MJML: {why}")
    number, line = traced.source_of(found[0])  # type: ignore[misc]
    label = template_label(job.ws, loader_env.loader.files[number])
    return TemplateError(label, line, f"invalid MJML: {found[1]}")


def _root_file(job: _Job) -> str:
    _, filename, _ = environment(job.ws).loader.get_source(environment(job.ws), HTML_TEMPLATE)  # type: ignore[union-attr]
    return filename or HTML_TEMPLATE
