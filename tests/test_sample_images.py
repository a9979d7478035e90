"""The sample pictures are the script's drawing (scripts/make_sample_images.py): drawn again
into a temporary folder they are byte-identical to the committed files, every image of the
sample editions is one of them, and each stays small."""
from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_sample_images.py"
MAX_BYTES = 150_000


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample_images", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script()


@pytest.fixture(scope="module")
def drawn(script: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every picture drawn once, afresh, into a temporary repository root."""
    out = tmp_path_factory.mktemp("drawn")
    script.write_all(out)
    return out


def test_the_committed_pictures_are_the_scripts_drawing(script: ModuleType, drawn: Path) -> None:
    differ = [p.path for p in script.PICTURES if (ROOT / p.path).read_bytes() != (drawn / p.path).read_bytes()]
    assert differ == [], "run: .venv/bin/python scripts/make_sample_images.py"


def test_drawing_again_gives_the_same_bytes(script: ModuleType, drawn: Path) -> None:
    picture = script.PICTURES[0]
    assert script.render(picture) == (drawn / picture.path).read_bytes()


def test_every_sample_image_comes_from_the_script(script: ModuleType) -> None:
    made = {p.path for p in script.PICTURES}
    found = [p.relative_to(ROOT).as_posix() for pattern in ("issues/*/images/*", "examples/*/issues/*/images/*")
             for p in ROOT.glob(pattern) if p.is_file()]
    assert found, "the sample editions have no images"
    assert [f for f in found if f not in made] == []


def test_pictures_are_small_and_have_the_planned_size(script: ModuleType) -> None:
    for picture in script.PICTURES:
        path = ROOT / picture.path
        assert path.stat().st_size <= MAX_BYTES, picture.path
        with Image.open(path) as img:
            assert (img.format, img.size) == ("PNG", picture.size), picture.path


def test_check_mode_names_a_changed_and_a_missing_picture(script: ModuleType, drawn: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    copy = Path(shutil.copytree(drawn, tmp_path / "repo"))
    first, second = script.PICTURES[0].path, script.PICTURES[1].path
    with Image.open(copy / first) as img:
        img.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(copy / first)
    (copy / second).unlink()
    assert script.main(["--check", "--root", str(copy)]) == 1
    err = capsys.readouterr().err
    assert f"{first}: differs" in err and f"{second}: missing" in err


def test_the_readme_shows_the_sample_edition_on_a_desktop_and_a_phone() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shots = re.findall(r'<img src="(docs/screenshots/[^"]+\.png)"', readme)
    widths = []
    for shot in shots:
        path = ROOT / shot
        assert path.stat().st_size <= 200_000, shot
        with Image.open(path) as img:
            widths.append(img.width)
            assert img.height > 2 * img.width, shot      # the whole edition, not a cut-out
    assert sorted(widths) == [375, 600]
    assert "newsletter screenshot 2026-11 --lang en --width 600,375" in readme
