"""Findings about an edition's images once processed (the loader already refused the files
no mail client can show): too heavy to load quickly on a phone, or too small to look sharp."""
from __future__ import annotations

from newsletter.check.findings import Finding
from newsletter.content import images
from newsletter.content.loader import LoadedEdition
from newsletter.core.config import Workspace
from newsletter.core.errors import NewsletterError
from newsletter.render.images import edition_images


def image_findings(ws: Workspace, loaded: LoadedEdition) -> list[Finding]:
    """A warning per image above the size budget once processed, or narrower than it is shown."""
    try:
        table = edition_images(ws, loaded)
    except NewsletterError as exc:
        return [Finding("error", "image", str(exc), _rel(ws, loaded.file))]
    out: list[Finding] = []
    for ref, planned in table.by_ref.items():
        use = table.uses[ref][0]
        err = loaded.smap.error(use.loc, "")
        where = f"{_rel(ws, err.path)}:{err.line}" if err.line else _rel(ws, err.path)
        size = len(images.process(planned))
        if size > images.SIZE_BUDGET:
            out.append(Finding("warning", "image-size", (
                f"{err.field}: image {ref!r} is {size / 1000:.0f} KB even after resizing to "
                f"{planned.width}x{planned.height} (budget {images.SIZE_BUDGET / 1000:.0f} KB): slow on a "
                "phone connection; crop it or save it with stronger compression"), where))
        shown = max(u.width for u in table.uses[ref])
        if planned.source.width < shown:
            out.append(Finding("warning", "image-small", (
                f"{err.field}: image {ref!r} is {planned.source.width} px wide but shown {shown} px wide: "
                f"it looks blurry; use one at least {2 * shown} px wide"), where))
    return out


def _rel(ws: Workspace, path) -> str:
    try:
        return str(path.relative_to(ws.root))
    except ValueError:
        return str(path)
