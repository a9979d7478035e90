"""The preview's routes. Each request is answered from the Site cache; every failure to
build becomes a page that names the file and line, never a crashed server.

Routes (``<edition>`` must be the name of an edition folder, nothing else):
    /                              the editions
    /e/<edition>/                  the toolbar, a view and the checks
    /e/<edition>/email             the email document shown in the sandboxed frame
    /e/<edition>/lint              the checks, as a fragment the page loads
    /e/<edition>/files/<path>      the edition folder's images (nothing else, nothing outside)
    /static/<path>                 the preview's own stylesheet and script
    /events                        Server-Sent Events: 'reload' after every refresh
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote, urlsplit

from newsletter.content.loader import LoadedEdition
from newsletter.preview.emailview import FRAME_CSP, FRAME_SANDBOX, for_frame, has_dark_styles, remote_images
from newsletter.preview.message import PreviewMessage
from newsletter.preview.events import Hub
from newsletter.preview.pages import VIEWS, WIDTHS, Pages, Selection, selection_from, shown_errors
from newsletter.preview.paths import safe_file, unhashed
from newsletter.preview.samples import Sample
from newsletter.preview.site import Site, VariantKey

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".svg": "image/svg+xml", ".avif": "image/avif"}
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# Files are shown inside pages only; opened on their own (an SVG could hold a script) they
# get no script and no origin either.
FILE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    def all_headers(self) -> dict[str, str]:
        base = {"Content-Type": self.content_type, "Content-Length": str(len(self.body)),
                "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer", "Content-Security-Policy": PAGE_CSP}
        return {**base, **self.headers}


class PreviewApp:
    """The preview for one workspace: a cache of builds, the reload hub and the routes."""

    def __init__(self, root: Path):
        self.site = Site(root)
        self.hub = Hub()
        self.pages = Pages()

    @property
    def root(self) -> Path:
        return self.site.root

    def changed(self, paths: set[Path]) -> None:
        """A source file changed: forget what it affects, render again what is open, reload pages."""
        self.site.invalidate(paths)
        seconds = self.site.warm()
        log.info("refreshed in %.0f ms after a change to %s", seconds * 1000, ", ".join(p.name for p in sorted(paths)))
        self.hub.bump()

    # -- routing -------------------------------------------------------------------------------

    def handle(self, target: str) -> Response:
        """Answer a GET for ``target`` (the raw request path with its query)."""
        parts = urlsplit(target)
        raw, query = parts.path, parse_qs(parts.query)
        if raw == "/":
            return self.index()
        if raw == "/favicon.ico":
            return Response(204, content_type="image/x-icon")
        if raw.startswith("/static/"):
            return self.static(raw[len("/static/"):])
        if raw.startswith("/e/"):
            name, _, rest = raw[len("/e/"):].partition("/")
            return self.edition_route(unquote(name), rest, query)
        return self.not_found()

    def edition_route(self, name: str, rest: str, query: dict[str, list[str]]) -> Response:
        try:
            known = self.site.edition_names()
        except Exception as exc:  # newsletter.yaml is broken: say so on every page
            return self.failed(exc, "The workspace settings could not be read")
        if name not in known:
            return self.not_found(f"There is no edition {name!r}.")
        if rest.startswith("files/"):
            return self.edition_file(name, rest[len("files/"):])
        routes: dict[str, Callable[[str, dict[str, list[str]]], Response]] = {
            "": self.edition_page, "email": self.email_document, "lint": self.lint_fragment}
        route = routes.get(rest)
        return route(name, query) if route else self.not_found()

    # -- pages ---------------------------------------------------------------------------------

    def index(self) -> Response:
        try:
            names = self.site.edition_names()
        except Exception as exc:
            return self.failed(exc, "The workspace settings could not be read")
        return self.page("index.html", editions=[self._summary(n) for n in names])

    def _summary(self, name: str) -> dict[str, Any]:
        try:
            loaded = self.site.edition(name)
        except Exception as exc:
            count = len(getattr(exc, "errors", [exc]))
            return {"name": name, "ok": False, "problem": f"{count} error(s)"}
        ed = loaded.edition
        subject = ed.subject.get(loaded.default_language) or next(iter(ed.subject.values()))
        return {"name": name, "ok": True, "number": ed.number, "date": ed.date, "subject": subject,
                "languages": ed.languages}

    def edition_page(self, name: str, query: dict[str, list[str]]) -> Response:
        try:
            ctx = self._context(name, query)
        except Exception as exc:
            return self.failed(exc, f"Edition {name} could not be built", edition=name)
        return self.page("edition.html", **ctx)

    def _context(self, name: str, query: dict[str, list[str]]) -> dict[str, Any]:
        loaded = self.site.edition(name)
        sel = self._selection(loaded, query)
        samples, samples_source = self.site.samples(sel.segment)
        message = self.site.message(self._key(loaded, sel), _chosen(samples, sel))
        base = f"/e/{quote(name)}/"
        return {
            "edition": name, "number": loaded.edition.number, "date": loaded.edition.date,
            "sel": sel, "languages": loaded.edition.languages, "segments": self._segments(loaded),
            "samples": samples, "samples_source": samples_source, "widths": WIDTHS, "views": self._views(),
            "link": lambda **changes: f"{base}?{sel.query(**changes)}",
            "frame_src": f"{base}email?{sel.query()}", "sandbox": FRAME_SANDBOX,
            "message": message,
            "source": self._source(sel, message, loaded),
            "notes": self._notes(sel, message.html) + _stale_notes(loaded, sel.language),
        }

    def _source(self, sel: Selection, message: PreviewMessage, loaded: LoadedEdition) -> str:
        """What a source view shows (the email view shows the frame instead)."""
        if sel.view == "mjml":
            return self.site.mjml(self._key(loaded, sel))
        return {"text": message.text, "html": message.html, "headers": message.headers}.get(sel.view, "")

    def _notes(self, sel: Selection, document: str) -> list[str]:
        notes = []
        remote = remote_images(document)
        if remote and sel.view == "email":
            notes.append(f"{len(remote)} image(s) from the web are not loaded here: the preview works "
                         f"offline. They show in the sent email: {', '.join(remote)}")
        if sel.dark and sel.view == "email" and not has_dark_styles(document):
            notes.append("This email has no dark-mode styles of its own; shown as mail apps that force "
                         "dark mode show it (colours inverted, photos kept).")
        return notes

    def email_document(self, name: str, query: dict[str, list[str]]) -> Response:
        """The email itself, for the sandboxed frame: no script may run in it."""
        try:
            loaded = self.site.edition(name)
            sel = self._selection(loaded, query)
            samples, _ = self.site.samples(sel.segment)
            document = self.site.message(self._key(loaded, sel), _chosen(samples, sel)).html
        except Exception as exc:
            return self.failed(exc, f"Edition {name} could not be built", edition=name)
        body = for_frame(document, sel.dark).encode("utf-8")
        return Response(200, body, headers={"Content-Security-Policy": FRAME_CSP})

    def lint_fragment(self, name: str, query: dict[str, list[str]]) -> Response:
        try:
            findings, failed = self.site.lint(name), ""
        except Exception as exc:
            findings, failed = [], "; ".join(f"{e.location} {e.message}".strip() for e in shown_errors(exc, self.root))
        errors = sum(1 for f in findings if f.level == "error")
        body = self.pages.render("lint.html", findings=findings, errors=errors,
                                 warnings=len(findings) - errors, failed=failed)
        return Response(200, body)

    # -- files ---------------------------------------------------------------------------------

    def edition_file(self, name: str, raw: str) -> Response:
        folder = self.root / "issues" / name
        # Rendered emails name the published (hashed) file; the preview shows the source.
        path = (safe_file(folder, raw) or safe_file(folder, unhashed(raw)) or safe_file(self.root, unhashed(raw))
                or self._logo_file(raw))
        kind = IMAGE_TYPES.get(path.suffix.lower()) if path else None
        if path is None or kind is None:
            return self.not_found()
        return Response(200, path.read_bytes(), kind, {"Content-Security-Policy": FILE_CSP})

    def _logo_file(self, raw: str) -> Path | None:
        """The organisation's logo (light or dark) when it is a workspace file: emails name it
        by its file name beside the images (render.images.logo_image), wherever it is kept."""
        org = self.site.workspace().settings.organisation
        for logo in (org.logo, getattr(org, "logo_dark", None)):
            if logo and not logo.lower().startswith(("http://", "https://")) and unhashed(raw) == PurePosixPath(logo).name:
                return safe_file(self.root, PurePosixPath(logo).as_posix())
        return None

    def static(self, raw: str) -> Response:
        path = safe_file(STATIC, raw)
        kind = STATIC_TYPES.get(path.suffix) if path else None
        if path is None or kind is None:
            return self.not_found()
        return Response(200, path.read_bytes(), kind)

    # -- helpers -------------------------------------------------------------------------------

    def page(self, template: str, status: int = 200, **context: Any) -> Response:
        return Response(status, self.pages.render(template, generation=self.hub.generation, **context))

    def failed(self, exc: BaseException, heading: str, edition: str | None = None) -> Response:
        errors = shown_errors(exc, self.root)
        # 200, not 500: the page is the expected answer while a file is being fixed, and it
        # must keep listening for the fix.
        return self.page("failed.html", heading=heading, errors=errors, edition=edition)

    def not_found(self, message: str = "Nothing is served at this address.") -> Response:
        return self.page("notfound.html", 404, message=message)

    def _selection(self, loaded: LoadedEdition, query: dict[str, list[str]]) -> Selection:
        segments = [name for name, _ in self._segments(loaded)]
        return selection_from(query, languages=loaded.edition.languages, default_language=loaded.default_language,
                              segments=segments, views=[v for v, _ in self._views()])

    def _segments(self, loaded: LoadedEdition) -> list[tuple[str, str]]:
        """Every segment, labelled with how many blocks only its members see."""
        counts: dict[str, int] = {}
        for block in loaded.edition.blocks:
            if block.audience:
                counts[block.audience] = counts.get(block.audience, 0) + 1
        names = self.site.segments().names
        return [(n, f"{n} (+{counts[n]} block{'s' if counts[n] > 1 else ''})" if counts.get(n) else n) for n in names]

    def _key(self, loaded: LoadedEdition, sel: Selection) -> VariantKey:
        shown = {b.audience for b in loaded.edition.blocks if b.audience}
        return VariantKey(loaded.name, sel.language, (sel.segment,) if sel.segment in shown else ())

    @staticmethod
    def _views() -> list[tuple[str, str]]:
        return VIEWS


def _chosen(samples: list[Sample], sel: Selection) -> Sample | None:
    return next((s for s in samples if s.key == sel.subscriber), None)


def _stale_notes(loaded: LoadedEdition, language: str) -> list[str]:
    """A note naming this language's stale translations (their source changed since)."""
    stale = [state.field for state in loaded.translation_states.values()
             if state.language == language and state.state == "stale"]
    if not stale:
        return []
    return [f"Stale translation ({len(stale)}): the {loaded.default_language} text changed after "
            f"these were translated, so this {language} version may say something else: {', '.join(stale)}"]
