"""Rendering: an edition model -> (MJML -> HTML, text) per variant, through the theme.

Public API::

    variants(ws, loaded)                         -> [(language, audiences), ...]
    render_variant(ws, loaded, language, audiences, *, asset_base_url=None) -> RenderedVariant
    render_edition(ws, loaded, *, asset_base_url=None) -> [RenderedVariant, ...]
    render_mjml(ws, loaded, language, audiences, *, asset_base_url=None) -> str  (debugging)
    render_all(ws, loaded, *, asset_base_url=None) -> [Rendering(variant, mjml), ...]
"""
from newsletter.render.context import archive_url, default_asset_base_url
from newsletter.render.pipeline import (Rendering, render, render_all, render_block_mjml, render_edition, render_mjml,
                       render_variant, variants)
from newsletter.core.errors import TemplateError
from newsletter.render.variant import RenderedVariant, variant_key

__all__ = ["RenderedVariant", "Rendering", "TemplateError", "archive_url", "default_asset_base_url", "render",
           "render_all", "render_block_mjml", "render_edition", "render_mjml", "render_variant",
           "variant_key", "variants"]
