"""Synthetic workspaces for the send and memory benchmarks: a copy of the sample workspace
(settings, editions, theme, segments) with N generated subscribers, imported through the
subscribers importer from a generated CSV.

    python bench/data.py DEST N        make one, e.g. to try `newsletter send` by hand

The mix follows the sample list: three languages (so every language variant is sent), about
one in eight tagged leader (so the audience variants are sent too), names with accents,
addresses at reserved example domains.
"""
from __future__ import annotations

import csv
import random
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Unavailable  # noqa: E402

WORKSPACE_PARTS = ("newsletter.yaml", "issues", "templates", "subscribers")
COLUMNS = ["email", "first_name", "last_name", "language", "country", "tags", "status", "centre", "role"]
FIRST = ["Amelia", "Dömötör", "Begoña", "Hannelore", "Ngozi", "Wanjiru", "Petra", "Sofía", "Liesl", "Sita",
         "Zoë", "Jürgen", "Łucja", "Mireille", "Chiamaka"]
LAST = ["Hartley", "Kovács", "Ibáñez", "Brückner", "Mbarga", "Kamau", "Nováková", "Muñoz", "Gassner",
        "O'Brien", "Øverland", "Schäfer"]
LANGUAGES = ["en"] * 5 + ["de"] * 3 + ["es"] * 2
COUNTRIES = ["DE", "AT", "CH", "US", "AR", "KE", "HU", "CZ", "NL", "IT", "CM", "RW"]
DOMAINS = ["example.org", "example.net", "example.com", "mail.example.org"]
ROLES = ["coordinator", "volunteer", "staff", "partner organisation"]


def copy_sample(dest: Path) -> Path:
    """The sample workspace's files, without its database, secret key, build or outbox."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKSPACE_PARTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, symlinks=True,
                            ignore=shutil.ignore_patterns("*.sqlite3*", "secret.key", "__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def write_csv(path: Path, count: int, seed: int = 7) -> Path:
    rnd = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(count):
            tags = "leader, member" if i % 8 == 3 else "member"
            writer.writerow([f"reader{i}@{DOMAINS[i % len(DOMAINS)]}", rnd.choice(FIRST), rnd.choice(LAST),
                             rnd.choice(LANGUAGES), rnd.choice(COUNTRIES), tags, "subscribed",
                             f"Mother Centre {i % 700}", rnd.choice(ROLES)])
    return path


def workspace(dest: Path, subscribers: int, seed: int = 7) -> Path:
    """A ready workspace at ``dest`` holding ``subscribers`` subscribed people."""
    try:
        from newsletter.core.config import load_workspace
        from newsletter.subscribers.importers import import_file
        from newsletter.subscribers.store import Store
    except ImportError as exc:
        raise Unavailable(f"the subscriber store is not in this checkout yet ({exc})") from None
    copy_sample(dest)
    source = write_csv(dest / "generated-subscribers.csv", subscribers, seed)
    with Store.open(load_workspace(dest)) as store:
        summary = import_file(store, source)
    source.unlink()
    if summary.imported != subscribers:
        raise RuntimeError(f"generated {subscribers} subscribers but {summary.line()}")
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python bench/data.py DEST N")
    folder = workspace(Path(sys.argv[1]), int(sys.argv[2]))
    print(f"{folder}: {sys.argv[2]} subscribers")
