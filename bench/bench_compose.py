"""Composition speed: messages/s for ``Composer.compose`` and for the same message built with
the standard library's ``EmailMessage`` (``reference_message``), side by side, on one core.

    python bench/bench_compose.py [--rounds 7] [--messages 2000] [--size-kb 75]

``run(variant, settings)`` takes any ``RenderedVariant``. Two are timed: a synthetic
newsletter of ``--size-kb`` (75 KB by default, the size the issue names) and the largest
variant of the sample edition (issues/2026-11) as the renderer makes it. The two paths are
timed in interleaved rounds (so drift in machine load hits both alike) and the
median of the rounds is printed. Nothing here is asserted; tests never time anything.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.compose.composer import Composer, Recipient  # noqa: E402
from newsletter.compose.reference import reference_message  # noqa: E402
from newsletter.core.config import Settings, load_settings  # noqa: E402
from newsletter.content.merge import MergeField, token  # noqa: E402
from newsletter.render.variant import RenderedVariant  # noqa: E402

FIELDS = [MergeField("first_name", "friends", 0, 0), MergeField("attributes.centre", "your centre", 0, 0),
          MergeField("unsubscribe_url", "", 0, 0), MergeField("preferences_url", "", 0, 0)]
ARTICLE = """<tr>
<td class="article" style="padding:24px 32px;font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:1.55;color:#2b2b2b;background-color:#ffffff;" align="left">
<h2 style="margin:0 0 12px 0;font-size:22px;line-height:1.3;color:#7a1f5c;font-weight:700;">{title}</h2>
<img src="https://mcin.example.org/newsletter/2026-11/images/article-{n}.jpg" width="536" alt="{title}" style="display:block;width:100%;max-width:536px;height:auto;border:0;border-radius:6px;margin:0 0 16px 0;">
<p style="margin:0 0 14px 0;">{para}</p>
<p style="margin:0 0 14px 0;">{para}</p>
<p style="margin:0;"><a href="https://mcin.example.org/newsletter/2026-11/article-{n}?utm_source=newsletter&amp;utm_medium=email" style="color:#7a1f5c;text-decoration:underline;font-weight:600;">Weiterlesen / Read more / Leer más &rarr;</a></p>
</td>
</tr>
"""
PARA = ("Im Mütterzentrum {c} treffen sich jede Woche Mütter, Väter und Großeltern zum offenen "
        "Frühstück; die Kinder spielen nebenan, und wer möchte, bringt Fragen zur Erziehung, zu "
        "Behördengängen oder zur Rückkehr in den Beruf mit. Las madres de nuestra red en España "
        "comparten también sus experiencias: «¡Aquí nadie está sola!» — so sagt es eine Teilnehmerin.")


def synthetic_variant(size_kb: int = 75) -> RenderedVariant:
    """An inlined, table-laid-out HTML newsletter of about ``size_kb`` KB with merge fields in
    the greeting, the articles and the footer, and its plain-text part."""
    head = (f'<!doctype html><html lang="de"><head><meta charset="utf-8"><title>November</title></head>'
            f'<body style="margin:0;padding:0;background:#f3ede6;"><table role="presentation" width="100%">\n'
            f'<tr><td style="padding:24px 32px;font-size:18px;">Liebe {token(0)},</td></tr>\n')
    foot = (f'<tr><td style="padding:24px;font-size:12px;color:#666;">Mütterzentrum {token(1)} · '
            f'<a href="{token(3)}">Einstellungen</a> · <a href="{token(2)}">Abmelden</a></td></tr>'
            '</table></body></html>\n')
    articles, n = [], 0
    while len(head) + sum(map(len, articles)) + len(foot) < size_kb * 1024:
        n += 1
        articles.append(ARTICLE.format(n=n, title=f"Neuigkeiten aus dem Netzwerk ({n})",
                                       para=PARA.format(c=token(1) if n % 5 == 0 else "Stuttgart")))
    text = (f"Liebe {token(0)},\n\n" + "\n\n".join(PARA.format(c="Stuttgart") for _ in range(n))
            + f"\n\nEinstellungen: {token(3)}\nAbmelden: {token(2)}\n")
    return RenderedVariant("2026-11", "de", (), f"Neues aus den Mütterzentren, {token(0)}", "",
                           head + "".join(articles) + foot, text,
                           {token(i): f for i, f in enumerate(FIELDS)})


def sample_variant(edition: str = "2026-11") -> RenderedVariant:
    """The largest rendered variant of the sample edition in this repository."""
    from newsletter.core.config import load_workspace
    from newsletter.content.loader import load_edition
    from newsletter.render.pipeline import render_edition

    ws = load_workspace(ROOT)
    return max(render_edition(ws, load_edition(ws, edition)), key=lambda v: len(v.html))


def recipients(count: int) -> list[Recipient]:
    names = ["Anna Schmidt", "Jörg Müller", "María José Pérez", "Zoë O'Brien", "Αλεξάνδρα Π.", "李小龍"]
    return [Recipient(i, f"reader{i}@example.org", names[i % len(names)],
                      {"first_name": names[i % len(names)].split()[0], "attributes": {"centre": "Nord"}})
            for i in range(count)]


def rate(fn: Callable[[Recipient], bytes], people: Sequence[Recipient]) -> float:
    start = time.perf_counter()
    for person in people:
        fn(person)
    return len(people) / (time.perf_counter() - start)


def run(variant: RenderedVariant, settings: Settings, *, rounds: int = 7, messages: int = 2000) -> dict:
    """Median messages/s of both paths over ``rounds`` interleaved rounds."""
    composer = Composer(variant, settings, b"bench-secret-key", campaign="bench",
                        clock=lambda: datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc))
    people = recipients(messages)
    few = people[: max(30, messages // 20)]   # the standard library is far slower
    fast, slow = [], []
    for _ in range(rounds):
        fast.append(rate(composer.compose, people))
        slow.append(rate(lambda p: reference_message(composer, p), few))
    size = len(composer.compose(people[0]))
    return {"html_kb": len(variant.html.encode()) / 1024, "message_kb": size / 1024,
            "composer": statistics.median(fast), "emailmessage": statistics.median(slow)}


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size-kb", type=int, default=75)
    args = parser.parse_args(argv)
    where = pin_to_one_core()
    settings = load_settings(ROOT / "newsletter.yaml")
    print(f"compose benchmark: {where}; median of {args.rounds} interleaved rounds")
    cases = [(f"synthetic {args.size_kb} KB newsletter", synthetic_variant(args.size_kb)),
             ("sample edition 2026-11", sample_variant())]
    for label, variant in cases:
        result = run(variant, settings, rounds=args.rounds, messages=args.messages)
        print(f"{label} ({variant.key}): {result['html_kb']:.1f} KB HTML -> "
              f"{result['message_kb']:.1f} KB message")
        print(f"  Composer.compose       {result['composer']:9.0f} messages/s")
        print(f"  EmailMessage (stdlib)  {result['emailmessage']:9.0f} messages/s")
        print(f"  speed-up               {result['composer'] / result['emailmessage']:9.1f} x")


if __name__ == "__main__":
    main()
