"""docs/architecture.md matches the tree: every module of the package is named in its tree
(and nothing that does not exist), and every layer of the import contract is in its table.
A new module or room fails this test until it has its line in the document."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "newsletter"


def documented_modules() -> set[str]:
    """'pkg/module.py' for every module named in the document's tree block (__init__.py aside:
    every package has one)."""
    block = DOC.read_text(encoding="utf-8").split("\n```\nnewsletter/\n", 1)[1].split("\n```", 1)[0]
    found, package, sub = set(), "", ""
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:  # templates/, tests/, bench/: outside the package
            break
        head = re.match(r" *([\w]+)/", line)
        if indent == 2:
            package, sub = (head.group(1), "") if head else ("", "")
        elif indent == 4:
            sub = head.group(1) if head else ""
        names = re.findall(r"\b([\w]+\.py)\b", line.split("  ", 2)[-1] if indent >= 6 else line)
        where = "/".join(p for p in (package, sub) if p)
        found |= {f"{where}/{n}" if where else n for n in names if n != "__init__.py"}
    return found


def actual_modules() -> set[str]:
    return {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
            if p.name != "__init__.py" and "__pycache__" not in p.parts and "theme" not in p.parts}


def test_the_tree_in_the_document_is_the_package() -> None:
    documented, actual = documented_modules(), actual_modules()
    assert sorted(actual - documented) == [], "add these modules to docs/architecture.md's tree"
    assert sorted(documented - actual) == [], "docs/architecture.md names modules that do not exist"


def test_every_layer_of_the_contract_is_in_the_table() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    packages = {p.strip().removeprefix("newsletter.") for layer in contract["layers"] for p in layer.split("|")}
    table = DOC.read_text(encoding="utf-8").split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| \d+ \| (.+?) \|", table, re.M)
    in_table = {name for row in rows for name in re.findall(r"`(\w+)`", row)}
    assert packages == in_table
