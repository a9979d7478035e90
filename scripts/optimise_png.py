#!/usr/bin/env python3
"""Make screenshots small enough to commit: reduce each PNG to 256 colours (no dithering, so
text stays crisp) and save it optimised into a folder. Used by `make screenshots` for the
README's pictures of the sample edition.

    .venv/bin/python scripts/optimise_png.py -o docs/screenshots build/screenshots/readme/*.png
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image

COLOURS = 256


def optimise(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        small = img.convert("RGB").quantize(COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder to write the optimised PNGs to")
    parser.add_argument("files", nargs="+", type=Path, help="PNG files")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    for path in args.files:
        if not path.is_file():
            print(f"Error: {path}: no such file", file=sys.stderr)
            return 1
        data = path.read_bytes()
        small = optimise(data)
        (args.output / path.name).write_bytes(small)
        print(f"Wrote {args.output / path.name} ({len(data) / 1000:.0f} KB -> {len(small) / 1000:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
