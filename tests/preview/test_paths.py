"""URL paths to files: nothing outside the served folder, however it is spelled."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from newsletter.preview.paths import safe_file, url_segments


@pytest.fixture
def served(tmp_path: Path) -> Path:
    base = tmp_path / "served"
    (base / "images").mkdir(parents=True)
    (base / "images" / "a b.png").write_bytes(b"png")
    (base / "top.png").write_bytes(b"png")
    (tmp_path / "secret.txt").write_text("secret")
    return base


@pytest.mark.parametrize("raw", ["top.png", "images/a%20b.png", "images/a b.png"])
def test_files_inside_are_found(served: Path, raw: str) -> None:
    found = safe_file(served, raw)
    assert found is not None and found.read_bytes() == b"png"


@pytest.mark.parametrize("raw", [
    "../secret.txt", "images/../../secret.txt", "%2e%2e/secret.txt", "%2E%2E%2Fsecret.txt",
    "..%2fsecret.txt", "images%2f..%2f..%2fsecret.txt", "%252e%252e%252fsecret.txt", "%252e%252e/secret.txt",
    "..\\secret.txt", "..%5csecret.txt", "/etc/passwd", "%2fetc%2fpasswd", "images//../../secret.txt",
    "./top.png", "images/", "", "top.png%00.txt", "%c0%ae%c0%ae/secret.txt", ".hidden", "C:%5cWindows",
])
def test_paths_leaving_or_odd_are_refused(served: Path, raw: str) -> None:
    assert safe_file(served, raw) is None


def test_symbolic_link_out_of_the_folder_is_refused(served: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "secret.txt", served / "link.png")
    assert safe_file(served, "link.png") is None


def test_folders_are_not_files(served: Path) -> None:
    assert safe_file(served, "images") is None


def test_segments_are_decoded_once() -> None:
    assert url_segments("images/a%20b.png") == ["images", "a b.png"]
    assert url_segments("a%252fb") is None  # a '%' after decoding: encoded twice


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("./%2e5cfF\\abx0")), max_size=24))
def test_any_path_stays_inside(raw: str) -> None:
    base = Path(__file__).parent
    found = safe_file(base, raw)
    assert found is None or base.resolve() in found.parents
