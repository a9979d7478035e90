"""`newsletter new`: start an edition, from a skeleton or from an earlier edition."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

from newsletter.core.files import display_path
from newsletter.core.config import Workspace
from newsletter.core.errors import NewsletterError
from newsletter.content.loader import EDITION_FILE, edition_names
from newsletter.core.yamlsrc import load_yaml

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def next_month(after: str | None, today: dt.date) -> str:
    if after is None or not _MONTH.match(after):
        return f"{today:%Y-%m}"
    year, month = map(int, after.split("-"))
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def _numbers(ws: Workspace) -> list[int]:
    out = []
    for name in edition_names(ws):
        try:
            data, _ = load_yaml(ws.issues_dir / name / EDITION_FILE)
            out.append(int(data["number"]))
        except Exception:  # a broken edition must not stop a new one from being started
            continue
    return out


def create_edition(ws: Workspace, month: str | None, like: str | None, today: dt.date) -> Path:
    months = [n for n in edition_names(ws) if _MONTH.match(n)]
    month = month or next_month(max(months) if months else None, today)
    if not _MONTH.match(month):
        raise NewsletterError(f"--date must look like 2026-12 (year-month), got {month!r}")
    folder = ws.issues_dir / month
    if folder.exists():
        raise NewsletterError(f"{display_path(folder, ws.root)} already exists; choose another --date")
    number = max(_numbers(ws), default=0) + 1
    date = f"{month}-01"
    if like:
        source = ws.issues_dir / like
        if not (source / EDITION_FILE).is_file():
            raise NewsletterError(f"no edition {like!r} to copy (looked for {source / EDITION_FILE})")
        shutil.copytree(source, folder)
        text = (folder / EDITION_FILE).read_text(encoding="utf-8")
        text = re.sub(r"(?m)^number:.*$", f"number: {number}", text, count=1)
        text = re.sub(r"(?m)^date:.*$", f"date: {date}", text, count=1)
    else:
        folder.mkdir(parents=True)
        text = skeleton(ws, number, date)
    (folder / EDITION_FILE).write_text(text, encoding="utf-8")
    return folder


def skeleton(ws: Workspace, number: int, date: str) -> str:
    langs = ws.settings.languages
    order = [langs.default] + [code for code in langs.available if code != langs.default]
    lang_list = ", ".join(order)
    per_lang = "\n".join(f"  {code}: TODO subject in {code}" for code in order)
    return f"""# Edition {number}. Format: docs/editions.md. Check it with: newsletter check
number: {number}
date: {date}
languages: [{lang_list}]
subject:
{per_lang}
preheader: TODO one line shown after the subject in the inbox
blocks:
  - type: hero
    title: TODO headline
    intro: |
      Dear {{{{ first_name or "friends" }}}}, TODO a short introduction.
  - type: article
    title: TODO article title
    body: |
      TODO the article, in Markdown. [A link](https://example.org/) looks like this.
  - type: divider
  - type: markdown
    body: TODO a closing word.
"""
