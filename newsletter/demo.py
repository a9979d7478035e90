"""`newsletter demo`: the main job end to end on a workspace, with the embedded defaults.

Check every edition, build the latest, import the sample subscribers into SQLite, and send
the latest edition to the segment 'all' through the outbox adapter (nothing leaves the
machine), and publish it to the web archive folder (site/). Run it twice: the send journal
makes the second send a no-op, and the second publish writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from newsletter.campaign import plan as campaign, waves
from newsletter.check.checker import run_check
from newsletter.core.files import display_path
from newsletter.core.config import Workspace
from newsletter.content.loader import edition_names
from newsletter.campaign.runner import RunOptions
from newsletter.core.errors import NewsletterError
from newsletter.publish.build import build_edition
from newsletter.publish.publisher import publish
from newsletter.subscribers.importers import import_file
from newsletter.subscribers.store import Store
from newsletter.web.pages import Paths

ADAPTER = "outbox"
SEGMENT = "all"


@dataclass
class DemoReport:
    lines: list[str] = field(default_factory=list)
    all_delivered: bool = True


def run_demo(ws: Workspace, say: Callable[[str], None]) -> DemoReport:
    report = DemoReport()

    def note(line: str) -> None:
        report.lines.append(line)
        say(line)

    names = edition_names(ws)
    if not names:
        raise NewsletterError(f"no editions in {ws.issues_dir}; start one with `newsletter new`")
    for r in run_check(ws, names):
        note(f"1. checked {r.name}: {r.count('error')} error(s), {r.count('warning')} warning(s)")
    latest = names[-1]
    built = build_edition(ws, latest)
    note(f"2. built {latest}: {len(built.manifest.get('variants', []))} variant(s) in {display_path(built.out_dir, ws.root)}/")
    with Store.open(ws) as store:
        sample = ws.subscribers_dir / "sample.csv"
        if sample.is_file():
            summary = import_file(store, sample)
            note(f"3. imported {display_path(sample, ws.root)} into {display_path(ws.db_path, ws.root)}: {summary.line()}")
        the_plan = campaign.make_plan(ws, store, latest, SEGMENT)
        # The same sign-off gate as `newsletter send` (translations.require_approval).
        approvals = waves.approvals_for(ws, the_plan.loaded, the_plan.languages)
        waves.check_approved(approvals, the_plan.loaded, SEGMENT, the_plan.languages)
        note(f"4. planned {latest} for segment '{SEGMENT}': {the_plan.total} recipient(s) in "
             f"{len(the_plan.variants)} variant(s); {_signed_off(approvals)}")
        options = RunOptions.from_settings(ws.settings.delivery)
        result = campaign.send(ws, store, the_plan, ADAPTER, options=options)
    report.all_delivered = result.all_delivered
    note(f"5. sent through the {ADAPTER} adapter: {result.sent} new message(s) this run; "
         f"journal: {', '.join(f'{k} {v}' for k, v in sorted(result.counts.items()) if v)}")
    site = publish(ws, [latest])
    where = display_path(getattr(site.target, "folder", ws.root / "site"), ws.root)
    note(f"6. published {latest} to {site.target if '://' in str(site.target) else where + '/'}: "
         f"{len(site.report.written)} file(s) written, {site.report.unchanged} unchanged "
         f"(archive pages, feeds, images, calendar files)")
    note(f"Look at: {display_path(ws.outbox_dir, ws.root)}/*.eml (the messages), {display_path(built.out_dir, ws.root)}/ "
         f"(HTML, text, MJML per variant), {where}/index.html (the web archive, open it in a browser), "
         f"`newsletter campaigns`, `newsletter preview {latest}`.")
    for line in serve_hint(ws):
        note(line)
    return report


def _signed_off(approvals: waves.Approvals) -> str:
    if not approvals.required:
        return "approval of translations not required"
    return "languages signed off: " + ", ".join(
        f"{lang} (source)" if state.source else f"{lang} by {state.approval.by}"  # type: ignore[union-attr]
        for lang, state in approvals.states.items())


def serve_hint(ws: Workspace, local: str = "http://127.0.0.1:8080") -> list[str]:
    """How to try the readers' side on this machine: the links in the outbox's messages
    point at the public site; the same paths work on a local `newsletter serve`."""
    paths = Paths.from_workspace(ws)
    public = paths.public.split("/", 3)
    origin = "/".join(public[:3])
    return [f"Readers' side: run `newsletter serve`, then open {local}{paths.signup} to sign up (the "
            f"confirmation goes to {display_path(ws.outbox_dir, ws.root)}/), or take the List-Unsubscribe "
            f"link of a message in {display_path(ws.outbox_dir, ws.root)}/ and replace {origin} with {local}.",
            f"  One-click unsubscribe as a mail provider does it: curl -X POST -d List-Unsubscribe=One-Click "
            f"'{local}{paths.unsubscribe}?token=...'"]
