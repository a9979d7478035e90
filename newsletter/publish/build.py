"""`newsletter build`: every variant of an edition written to a folder, with a manifest.

    build/<edition>/
      manifest.json            variants, languages, audiences, sizes, merge fields, lint results
      <variant>/email.html     the final HTML (placeholders for merge fields)
      <variant>/email.txt      the plain-text part
      <variant>/email.mjml     the generated MJML, for debugging the theme
      <language>.html          the web-archive page ("view in browser"): the variant without
                               audience blocks, each placeholder filled with its default
      images/...               the edition's local images, processed (content.images) and
                               named by content hash, where asset_base_url points

The same input gives the same bytes: nothing time-like or machine-specific is written.
"""
from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.check.checker import source_findings
from newsletter.check.images import image_findings
from newsletter.check.findings import Finding
from newsletter.core.config import Workspace
from newsletter.content.images import process
from newsletter.content.loader import LoadedEdition, load_edition
from newsletter.subscribers.segments import segment_names
from newsletter.render.variant import RenderedVariant
from newsletter.check.lints import lint_variants
from newsletter.render.context import default_asset_base_url
from newsletter.render.images import edition_images
from newsletter.render.pipeline import Rendering, audiences_used, render_all

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
FILES = {"html": "email.html", "text": "email.txt", "mjml": "email.mjml"}


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    manifest: dict[str, Any]
    findings: list[Finding]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.level == "error")


def build_edition(ws: Workspace, name: str, out_dir: Path | None = None,
                  *, asset_base_url: str | None = None) -> BuildResult:
    loaded = load_edition(ws, name, segment_names(ws))
    out = Path(out_dir) if out_dir else ws.build_dir / loaded.name
    renderings = render_all(ws, loaded, asset_base_url=asset_base_url)
    findings = source_findings(ws, loaded) + image_findings(ws, loaded) + lint_variants(ws, loaded, [r.variant for r in renderings])
    images = edition_images(ws, loaded).all()
    _remove_previous(out)
    for rendering in renderings:
        _write_variant(out / rendering.variant.key, rendering)
    archive = [_write_archive_page(out, r.variant) for r in renderings if not r.variant.audiences]
    for planned in images:
        target = out / planned.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(process(planned))
    manifest = _manifest(ws, loaded, renderings, [p.name for p in images], archive, findings, asset_base_url)
    _write(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return BuildResult(out, manifest, findings)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def _write_variant(folder: Path, rendering: Rendering) -> None:
    _write(folder / FILES["html"], rendering.variant.html)
    _write(folder / FILES["text"], rendering.variant.text)
    _write(folder / FILES["mjml"], rendering.mjml)


def _write_archive_page(out: Path, variant: RenderedVariant) -> str:
    """The page "view in browser" links to (see context.archive_url): nobody in particular
    reads it, so each placeholder shows its default, escaped for HTML."""
    name = f"{variant.language}.html"
    html = variant.fill_defaults(variant.html, escape=True)
    _write(out / name, html)
    return name


def _remove_previous(out: Path) -> None:
    """Remove what the last build wrote here (and only that: -o may name a shared folder)."""
    try:
        old = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        entries = ([v["key"] for v in old.get("variants", [])] + list(old.get("images", []))
                   + list(old.get("archive", [])))
    except (OSError, ValueError, TypeError, KeyError):
        return
    for entry in entries:
        target = (out / entry).resolve()
        if out.resolve() not in target.parents:
            continue
        if target.is_dir():
            shutil.rmtree(target)
        elif target.is_file():
            target.unlink()


def _manifest(ws: Workspace, loaded: LoadedEdition, renderings: list[Rendering], images: list[str],
              archive: list[str], findings: list[Finding], asset_base_url: str | None) -> dict[str, Any]:
    return {
        "edition": loaded.name,
        "number": loaded.edition.number,
        "date": loaded.edition.date.isoformat(),
        "languages": list(loaded.edition.languages),
        "audiences": audiences_used(loaded),
        "asset_base_url": asset_base_url or default_asset_base_url(ws, loaded.name),
        "variants": [_variant_entry(r) for r in renderings],
        "images": images,
        "archive": archive,
        "lint": [{"level": f.level, "code": f.code, "message": f.message, "where": f.where} for f in findings],
    }


def _variant_entry(rendering: Rendering) -> dict[str, Any]:
    v = rendering.variant
    return {
        "key": v.key,
        "language": v.language,
        "audiences": list(v.audiences),
        "subject": v.subject,
        "preheader": v.preheader,
        "files": {kind: f"{v.key}/{name}" for kind, name in FILES.items()},
        "sizes": {kind: len(text.encode("utf-8")) for kind, text in
                  (("html", v.html), ("text", v.text), ("mjml", rendering.mjml))},
        "fields": {token: {"field": f.field, "default": f.default} for token, f in v.fields.items()},
    }
