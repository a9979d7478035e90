"""Build: `newsletter build` of a sample edition as a whole process, against the official MJML
command-line tool compiling the MJML that build generated for that edition.

    python bench/bench_build.py [--edition 2026-11] [--runs 9]

The edition has several variants (languages x audiences); `newsletter build` renders all of
them (YAML -> Jinja -> MJML -> HTML, inlined CSS, plain text, lints, archive pages). The
reference is the MJML CLI compiling every variant's email.mjml in one process (the same
number of HTML files), and, for information, one variant's email.mjml alone. Goal: at most
a third of the reference's time. Rows below the references show where our time goes.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (MJML, ROOT, SAMPLE_EDITION, Goal, Report, Run, Unavailable, interleaved,  # noqa: E402
                          markdown_table, median, newsletter_cmd, node_version, note, python_env, ratio,
                          run_process, seconds, spread)

GOAL = 1 / 3
IMPORTS = "import newsletter.cli, newsletter.commands.build, newsletter.publish.build"


def generated_mjml(out: Path, into: Path) -> list[Path]:
    """Each variant's email.mjml, copied under its variant's name so the CLI writes one HTML
    file per variant instead of overwriting email.html."""
    into.mkdir(parents=True, exist_ok=True)
    files = []
    for source in sorted(out.glob("*/email.mjml")):
        target = into / f"{source.parent.name.replace('+', '_')}.mjml"
        shutil.copyfile(source, target)
        files.append(target)
    return files


def cases(edition: str, tmp: Path) -> tuple[dict, int]:
    if not MJML.exists() or shutil.which("node") is None:
        raise Unavailable(f"the MJML CLI is missing ({MJML}); `make node` installs it")
    env = python_env()
    build = newsletter_cmd(ROOT, "build", edition, "-o", str(tmp / "out"))
    run_process(build, env=env, log=tmp / "build.log")  # also fills the bytecode cache
    files = generated_mjml(tmp / "out", tmp / "mjml")
    if not files:
        raise Unavailable(f"newsletter build {edition} wrote no email.mjml")
    (tmp / "html").mkdir()
    return {
        "newsletter build": lambda: run_process(build, env=env, log=tmp / "build.log"),
        "mjml all": lambda: run_process([str(MJML), *map(str, files), "-o", str(tmp / "html") + "/"]),
        "mjml one": lambda: run_process([str(MJML), str(files[0]), "-o", str(tmp / "one.html")]),
        "python": lambda: run_process([sys.executable, "-c", "pass"], env=env),
        "imports": lambda: run_process([sys.executable, "-c", IMPORTS], env=env),
    }, len(files)


def mjml_version() -> str:
    try:
        return json.loads((MJML.parent.parent / "mjml" / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "(version unknown)"


def report(edition: str, variants: int, results: dict[str, list[Run]], runs: int) -> Report:
    walls = {name: [r.wall for r in rs] for name, rs in results.items()}
    cpus = {name: [r.cpu for r in rs] for name, rs in results.items()}
    ours, ref, one = (median(walls[k]) for k in ("newsletter build", "mjml all", "mjml one"))
    labels = {
        "newsletter build": f"`newsletter build {edition}` ({variants} variants)",
        "mjml all": f"MJML CLI, the {variants} generated email.mjml in one process (reference)",
        "mjml one": "MJML CLI, one variant's email.mjml",
        "python": "of which: Python start-up (`python -c pass`)",
        "imports": "of which: Python start-up + importing the build's modules",
    }
    rows = []
    for key, label in labels.items():
        rel = ratio(median(walls[key]), ref) if key in ("newsletter build", "mjml all", "mjml one") else "-"
        rows.append([label, seconds(median(walls[key])), spread(walls[key]), seconds(median(cpus[key])), rel])
    table = markdown_table(["process", "wall s (median)", "wall min-max", "CPU s (median)", "vs reference"], rows)
    goals = [Goal(f"`newsletter build` at most 1/3 of the MJML CLI's time ({variants} variants each)",
                  ratio(ours, ref), ours <= GOAL * ref)]
    notes = [f"{runs} interleaved runs after one warm-up; MJML CLI {mjml_version()} on {node_version()}; "
             "Python bytecode cached, as after installation.",
             f"Against the MJML CLI compiling a single variant: {ratio(ours, one)} "
             f"(1/3 would need {seconds(one * GOAL)} s)."]
    return Report("build", f"build: `newsletter build {edition}` vs the MJML CLI", table, goals, notes)


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edition", default=SAMPLE_EDITION)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        found, variants = cases(args.edition, Path(tmp))
        results = interleaved(found, args.runs, progress=lambda s: note(f"build: {s}"))
    return report(args.edition, variants, results, args.runs)


if __name__ == "__main__":
    try:
        print(main().text())
    except Unavailable as exc:
        raise SystemExit(f"build benchmark skipped: {exc}")
