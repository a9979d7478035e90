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
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from newsletter.core.config import Workspace
from newsletter.content.loader import LoadedEdition
from newsletter.content.merge import MergeSyntaxError
from newsletter.core.errors import RenderError
from newsletter.render.variant import RenderedVariant
from newsletter.render.context import default_asset_base_url, image_sizes, variant_context
from newsletter.render.images import edition_images, write_heights
from newsletter.render.fields import FieldRegistry, salt_for
from newsletter.render.mjml import MjmlError, to_html
from newsletter.render.templates import BLOCK_TEMPLATE, HTML_TEMPLATE, TEXT_TEMPLATE, mjml_error, run, theme_environment
from newsletter.render.text import LinkRefs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendering:
    """A rendered variant and the MJML it came from (written by `build` for debugging)."""

    variant: RenderedVariant
    mjml: str


@dataclass(frozen=True)
class _VariantInputs:
    """One variant to render: its workspace, names and template context."""

    ws: Workspace
    loaded: LoadedEdition
    language: str
    audiences: tuple[str, ...]
    context: dict[str, Any]
    fields: FieldRegistry
    image_sizes: dict[str, tuple[int, int]]


def audiences_used(loaded: LoadedEdition) -> list[str]:
    return sorted({b.audience for b in loaded.edition.blocks if b.audience})


def variants(ws: Workspace, loaded: LoadedEdition) -> list[tuple[str, tuple[str, ...]]]:
    """Every (language, audiences) to render: each language with each subset of the audience
    segments the edition's blocks use (a recipient in several segments sees all their blocks)."""
    used = audiences_used(loaded)
    subsets = [c for r in range(len(used) + 1) for c in itertools.combinations(used, r)]
    return [(lang, subset) for lang in loaded.edition.languages for subset in subsets]


def render_variant(ws: Workspace, loaded: LoadedEdition, language: str, audiences: tuple[str, ...] = (),
                   *, asset_base_url: str | None = None) -> RenderedVariant:
    """One variant: ``audiences`` are the segments whose blocks are shown (others are ignored)."""
    return render(ws, loaded, language, audiences, asset_base_url=asset_base_url).variant


def render_edition(ws: Workspace, loaded: LoadedEdition, *, asset_base_url: str | None = None) -> list[RenderedVariant]:
    """Every variant of the edition, in the order of ``variants``."""
    return [r.variant for r in render_all(ws, loaded, asset_base_url=asset_base_url)]


def render_mjml(ws: Workspace, loaded: LoadedEdition, language: str, audiences: tuple[str, ...] = (),
                *, asset_base_url: str | None = None) -> str:
    """The generated MJML of one variant (for debugging; `build` writes it as email.mjml).
    Works also when MRML refuses that MJML."""
    job = _job(ws, loaded, language, audiences, asset_base_url)
    return run(ws, theme_environment(ws), HTML_TEMPLATE, job.context)


def render(ws: Workspace, loaded: LoadedEdition, language: str, audiences: tuple[str, ...] = (),
           *, asset_base_url: str | None = None) -> Rendering:
    return _render(_job(ws, loaded, language, audiences, asset_base_url), theme_environment(ws))


def render_all(ws: Workspace, loaded: LoadedEdition, *, asset_base_url: str | None = None) -> list[Rendering]:
    env = theme_environment(ws)
    return [_render(_job(ws, loaded, lang, aud, asset_base_url), env) for lang, aud in variants(ws, loaded)]


def render_block_mjml(ws: Workspace, loaded: LoadedEdition, index: int, language: str,
                      *, asset_base_url: str | None = None) -> str:
    """One block's partial rendered alone, as a complete MJML document (for validation)."""
    block = loaded.edition.blocks[index]
    job = _job(ws, loaded, language, (block.audience,) if block.audience else (), asset_base_url)
    item = next(b for b in job.context["blocks"] if b.index == index)
    fragment = run(ws, theme_environment(ws), BLOCK_TEMPLATE.format(type=block.type), job.context, block=item)
    return f'<mjml lang="{language}">\n  <mj-body width="600px">\n{fragment}  </mj-body>\n</mjml>\n'


def _job(ws: Workspace, loaded: LoadedEdition, language: str, audiences: tuple[str, ...],
         asset_base_url: str | None) -> _VariantInputs:
    if language not in loaded.edition.languages:
        raise RenderError(f"edition {loaded.name} has no language {language!r} "
                          f"(its languages: {', '.join(loaded.edition.languages)})")
    shown = tuple(sorted(set(audiences) & set(audiences_used(loaded))))
    base = asset_base_url or default_asset_base_url(ws, loaded.name)
    fields = FieldRegistry(ws.settings.merge_attributes, salt_for(loaded.smap.texts.values()))
    try:
        context = variant_context(ws, loaded, language, shown, base, fields)
    except MergeSyntaxError as exc:  # validation catches these first; never render half a field
        raise RenderError(f"edition {loaded.name}: {exc}") from None
    base = base if base.endswith("/") else base + "/"
    return _VariantInputs(ws, loaded, language, shown, context, fields, image_sizes(edition_images(ws, loaded), base))


def _render(job: _VariantInputs, env: Environment) -> Rendering:
    mjml_text = run(job.ws, env, HTML_TEMPLATE, job.context)
    try:
        html = write_heights(to_html(mjml_text), job.image_sizes)
    except MjmlError as exc:
        raise mjml_error(job.ws, job.context, str(exc)) from None
    fields = job.fields
    html = fields.bind_html_urls(html)
    text = _tidy_text(fields.restore(run(job.ws, env, TEXT_TEMPLATE, job.context, refs=LinkRefs(fields.bind_url))))
    parts = [html, text, job.context["subject"], job.context["preheader"], mjml_text]
    salt, found = fields.salt, fields.fields
    if fields.unsalted(*parts, *(f.template for f in found.values())):
        parts = [fields.unsalt(p) for p in parts]
        salt, found = "", fields.unsalted_fields()
    html, text, subject, preheader, mjml_text = parts
    variant = RenderedVariant(
        edition=job.loaded.name, language=job.language, audiences=job.audiences,
        subject=subject, preheader=preheader, html=html, text=text, fields=dict(found), salt=salt,
    )
    log.debug("rendered %s %s: %d bytes of HTML", job.loaded.name, variant.key, len(html))
    return Rendering(variant, mjml_text)


def _tidy_text(text: str) -> str:
    """No trailing spaces, at most one empty line in a row, one final newline."""
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"
