"""Careless and hostile editor input through the real render pipeline: links that go nowhere,
anchors that collide, phone numbers without digits."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.content.loader import load_edition
from newsletter.core.config import load_workspace
from newsletter.core.errors import ValidationFailed
from newsletter.publish.site import build_site
from newsletter.render import render_variant
from tests.support.workspaces import edit_edition


def edit(ws_dir: Path, old: str, new: str) -> None:
    edit_edition(ws_dir, "2099-01", old, new)


def html_of(ws_dir: Path) -> str:
    ws = load_workspace(ws_dir)
    return render_variant(ws, load_edition(ws, "2099-01"), "en", ("leaders",)).html


def ids(html: str) -> Counter:
    return Counter(re.findall(r'\sid="([^"]*)"', html))


def test_an_editor_id_that_looks_like_a_generated_anchor_keeps_every_anchor_unique(kitchen_ws: Path) -> None:
    # The second block (no id of its own) is anchored "block-2" by default; the editor names
    # the first block "block-2" too: two ids, and the table of contents jumps to the wrong one.
    edit(kitchen_ws, "  - type: hero\n    image:", "  - type: hero\n    id: block-2\n    image:")
    html = html_of(kitchen_ws)
    twice = [name for name, count in ids(html).items() if count > 1]
    assert twice == []
    targets = re.findall(r'href="#([^"]+)"', html)
    assert targets and all(ids(html)[t] == 1 for t in targets)


@pytest.mark.parametrize("phone", ["+ ()", "...", "+ / -"])
def test_a_phone_number_without_digits_is_refused_at_its_line(kitchen_ws: Path, phone: str) -> None:
    edit(kitchen_ws, 'phone: "+49 30 555 0101"', f'phone: "{phone}"')
    ws = load_workspace(kitchen_ws)
    with pytest.raises(ValidationFailed) as info:
        load_edition(ws, "2099-01")
    (err,) = info.value.errors
    assert "phone" in err.field and "digit" in err.message
    lines = (kitchen_ws / "issues/2099-01/edition.yaml").read_text(encoding="utf-8").splitlines()
    assert phone in lines[err.line - 1]


def test_no_tel_link_is_ever_empty(kitchen_ws: Path) -> None:
    html = html_of(kitchen_ws)
    tels = re.findall(r'href="(tel:[^"]*)"', html)
    assert tels and all(re.fullmatch(r"tel:\+?[0-9]{3,}", t) for t in tels)


@pytest.mark.parametrize("key", ["logo", "logo_dark"])
def test_a_missing_logo_file_is_reported_at_its_line_by_build(kitchen_ws: Path, key: str) -> None:
    settings = kitchen_ws / "newsletter.yaml"
    text = settings.read_text(encoding="utf-8")
    if key == "logo":
        text = text.replace("  logo: logo.png", "  logo: images/missing.png")
    else:
        text = text.replace("  logo: logo.png", "  logo: logo.png\n  logo_dark: missing-dark.png")
    settings.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith(f"  {key}:"))
    result = CliRunner().invoke(main, ["--workspace", str(kitchen_ws), "build", "2099-01"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"newsletter.yaml:{line}:" in result.output
    assert f"organisation.{key}" in result.output and "not found" in result.output
    assert "Traceback" not in result.output


def test_an_editor_id_never_collides_with_the_archive_pages_own_ids(kitchen_ws: Path) -> None:
    # Editors' ids are [a-z0-9-]; "content" was also the id of the archive page's <main>
    # (the skip link's target), so the skip link jumped to the signature.
    edit(kitchen_ws, "id: signature", "id: content")
    site = build_site(load_workspace(kitchen_ws), ["2099-01"])
    pages = {path: data.decode("utf-8") for path, data in site.files.items() if path.endswith(".html")}
    assert "2099-01/en.html" in pages
    for path, page in pages.items():
        assert [name for name, count in ids(page).items() if count > 1] == [], path
        for target in re.findall(r'href="#([^"]+)"', page):
            assert ids(page)[target] == 1, (path, target)
