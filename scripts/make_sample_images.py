#!/usr/bin/env python3
"""Draw the sample editions' illustrations (and the sample workspaces' logos) with Pillow.

No photo is downloaded and none is committed by hand: every picture under issues/*/images,
examples/namc/issues/*/images and the logos under assets/ comes out of this script, drawn
from shapes (people, a community centre, a garden, a calendar, ...). The drawing has no
randomness beyond a fixed seed, so running it again gives byte-identical files (with the
Pillow pinned in requirements.lock); ``--check`` proves that the committed files are the
script's output (tests/test_sample_images.py runs it).

    .venv/bin/python scripts/make_sample_images.py           # (re)write every image
    .venv/bin/python scripts/make_sample_images.py --check   # compare, write nothing
    .venv/bin/python scripts/make_sample_images.py --list    # what it makes, and how large

Shapes are drawn at three times the size and scaled down (Pillow draws without
anti-aliasing); PNGs are reduced to an adaptive palette, which keeps flat illustrations
small (the hero, 1200 px wide, is published at the width it is drawn at).
"""
from __future__ import annotations

import argparse
import io
import math
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261105
SUPERSAMPLE = 3
PALETTE_COLOURS = 256
Colour = tuple[int, int, int]
Point = tuple[float, float]


def hex_colour(value: str) -> Colour:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def mix(a: Colour, b: Colour, t: float) -> Colour:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


@dataclass(frozen=True)
class Palette:
    """One workspace's colours: the sky, the land, the clothes, the people."""

    sky_top: Colour
    sky_bottom: Colour
    sun: Colour
    hill_far: Colour
    hill_near: Colour
    ground: Colour
    leaf: Colour
    leaf_dark: Colour
    trunk: Colour
    wall: Colour
    roof: Colour
    accent: Colour
    clothes: tuple[Colour, ...]
    paper: Colour
    ink: Colour


# The network (root workspace): warm, after templates/colors.j2 (berry #9b2457 on cream).
WARM = Palette(
    sky_top=hex_colour("f9d9b8"), sky_bottom=hex_colour("fbeee0"), sun=hex_colour("f6b042"),
    hill_far=hex_colour("e9c29a"), hill_near=hex_colour("b9c98a"), ground=hex_colour("9db36b"),
    leaf=hex_colour("6f9a4f"), leaf_dark=hex_colour("4f7a3c"), trunk=hex_colour("7a4b32"),
    wall=hex_colour("f3e2c7"), roof=hex_colour("c4553a"), accent=hex_colour("9b2457"),
    clothes=tuple(hex_colour(c) for c in ("9b2457", "e07a3f", "f2b134", "2f7f7a", "6a4c93", "d9586b", "3f6fb5")),
    paper=hex_colour("fffaf2"), ink=hex_colour("4a2c2a"))
# The national association (examples/namc): teal and sky, after its colors.j2 (#0b5e7a).
COOL = Palette(
    sky_top=hex_colour("bfe3ee"), sky_bottom=hex_colour("eef7f9"), sun=hex_colour("f7c05a"),
    hill_far=hex_colour("9cc7d3"), hill_near=hex_colour("7fb29a"), ground=hex_colour("6e9f86"),
    leaf=hex_colour("4f8f6f"), leaf_dark=hex_colour("356f57"), trunk=hex_colour("6b4a3a"),
    wall=hex_colour("f4f1ea"), roof=hex_colour("0b5e7a"), accent=hex_colour("0b5e7a"),
    clothes=tuple(hex_colour(c) for c in ("0b5e7a", "e07a5f", "f2cc8f", "3d405b", "81b29a", "c8553d", "5e81ac")),
    paper=hex_colour("ffffff"), ink=hex_colour("1b2a36"))
SKIN = tuple(hex_colour(c) for c in ("f1c7a5", "d9a07a", "b5764f", "8d5532", "6b3e26", "e8b896"))
HAIR = tuple(hex_colour(c) for c in ("2b1d16", "4a2f22", "1c1c1c", "7a4b2a", "dcd8d2", "3a2418"))


class Canvas:
    """A drawing surface in the final image's pixels, drawn SUPERSAMPLE times larger."""

    def __init__(self, width: int, height: int, background: Colour, transparent: bool = False) -> None:
        self.width, self.height = width, height
        size = (width * SUPERSAMPLE, height * SUPERSAMPLE)
        self.image = Image.new("RGBA", size, (*background, 0)) if transparent else Image.new("RGB", size, background)
        self.draw = ImageDraw.Draw(self.image)

    def _p(self, value: float) -> int:
        return round(value * SUPERSAMPLE)

    def _box(self, x0: float, y0: float, x1: float, y1: float) -> list[int]:
        return [self._p(min(x0, x1)), self._p(min(y0, y1)), self._p(max(x0, x1)), self._p(max(y0, y1))]

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: Colour, radius: float = 0) -> None:
        if radius:
            self.draw.rounded_rectangle(self._box(x0, y0, x1, y1), self._p(radius), fill=fill)
        else:
            self.draw.rectangle(self._box(x0, y0, x1, y1), fill=fill)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill: Colour) -> None:
        self.draw.ellipse(self._box(cx - rx, cy - ry, cx + rx, cy + ry), fill=fill)

    def circle(self, cx: float, cy: float, r: float, fill: Colour) -> None:
        self.ellipse(cx, cy, r, r, fill)

    def ring(self, cx: float, cy: float, r: float, colour: Colour, width: float) -> None:
        self.draw.ellipse(self._box(cx - r, cy - r, cx + r, cy + r), outline=colour, width=self._p(width))

    def polygon(self, points: Iterable[Point], fill: Colour) -> None:
        self.draw.polygon([(self._p(x), self._p(y)) for x, y in points], fill=fill)

    def line(self, points: Sequence[Point], colour: Colour, width: float, round_ends: bool = True) -> None:
        self.draw.line([(self._p(x), self._p(y)) for x, y in points], fill=colour, width=self._p(width),
                       joint="curve")
        if round_ends:
            for x, y in (points[0], points[-1]):
                self.circle(x, y, width / 2, colour)

    def arc(self, cx: float, cy: float, r: float, start: float, end: float, colour: Colour, width: float) -> None:
        self.draw.arc(self._box(cx - r, cy - r, cx + r, cy + r), start, end, fill=colour, width=self._p(width))

    def pieslice(self, cx: float, cy: float, rx: float, ry: float, start: float, end: float, fill: Colour) -> None:
        self.draw.pieslice(self._box(cx - rx, cy - ry, cx + rx, cy + ry), start, end, fill=fill)

    def vertical_gradient(self, y0: float, y1: float, top: Colour, bottom: Colour) -> None:
        a, b = self._p(y0), self._p(y1)
        for y in range(a, b):
            self.draw.line([(0, y), (self.image.width, y)], fill=mix(top, bottom, (y - a) / max(1, b - a - 1)))

    def text(self, x: float, y: float, words: str, size: float, colour: Colour) -> None:
        """Minimal text (only the logos' names): Pillow's bundled font, so the same bytes everywhere."""
        font = ImageFont.load_default(size=self._p(size))
        self.draw.text((self._p(x), self._p(y)), words, font=font, fill=colour, anchor="lm")

    def result(self) -> Image.Image:
        return self.image.resize((self.width, self.height), Image.Resampling.LANCZOS)


# --- things a scene is made of ----------------------------------------------------------------

def hills(c: Canvas, base: float, amplitude: float, colour: Colour, phase: float, waves: float = 1.5) -> None:
    """A rolling hill line across the whole width, filled down to the bottom."""
    steps = 60
    points = [(c.width * i / steps, base - amplitude * (0.5 + 0.5 * math.sin(phase + waves * math.tau * i / steps)))
              for i in range(steps + 1)]
    c.polygon(points + [(c.width, c.height), (0, c.height)], colour)


def sun(c: Canvas, x: float, y: float, r: float, p: Palette) -> None:
    c.circle(x, y, r * 1.6, mix(p.sun, p.sky_bottom, 0.75))
    c.circle(x, y, r * 1.25, mix(p.sun, p.sky_bottom, 0.45))
    c.circle(x, y, r, p.sun)


def cloud(c: Canvas, x: float, y: float, size: float, colour: Colour) -> None:
    c.ellipse(x, y, size * 1.1, size * 0.42, colour)
    c.circle(x - size * 0.35, y - size * 0.2, size * 0.38, colour)
    c.circle(x + size * 0.2, y - size * 0.3, size * 0.48, colour)


def tree(c: Canvas, x: float, ground: float, height: float, p: Palette, round_top: bool = True) -> None:
    trunk_w = height * 0.09
    c.rect(x - trunk_w / 2, ground - height * 0.55, x + trunk_w / 2, ground, p.trunk, radius=trunk_w / 3)
    if round_top:
        r = height * 0.3
        c.circle(x - r * 0.55, ground - height * 0.62, r * 0.8, p.leaf_dark)
        c.circle(x + r * 0.55, ground - height * 0.6, r * 0.85, p.leaf_dark)
        c.circle(x, ground - height * 0.78, r, p.leaf)
        c.circle(x - r * 0.35, ground - height * 0.85, r * 0.45, mix(p.leaf, (255, 255, 255), 0.18))
    else:  # a pointed one, for variety
        for i, shade in enumerate((p.leaf_dark, p.leaf)):
            w = height * (0.36 - 0.08 * i)
            top = ground - height * (1.0 - 0.05 * i)
            c.polygon([(x, top), (x + w, ground - height * 0.3), (x - w, ground - height * 0.3)], shade)


def bush(c: Canvas, x: float, ground: float, size: float, p: Palette, flowers: Colour | None = None) -> None:
    c.ellipse(x, ground - size * 0.35, size, size * 0.55, p.leaf_dark)
    c.ellipse(x - size * 0.3, ground - size * 0.55, size * 0.55, size * 0.45, p.leaf)
    if flowers:
        for dx, dy in ((-0.5, -0.6), (0.1, -0.75), (0.55, -0.45), (-0.1, -0.35), (0.35, -0.8)):
            c.circle(x + dx * size, ground + dy * size, size * 0.08, flowers)


def flower(c: Canvas, x: float, ground: float, height: float, petal: Colour, p: Palette) -> None:
    c.line([(x, ground), (x, ground - height)], p.leaf_dark, height * 0.08)
    c.ellipse(x + height * 0.15, ground - height * 0.45, height * 0.16, height * 0.07, p.leaf)
    for k in range(5):
        a = math.tau * k / 5
        c.circle(x + math.cos(a) * height * 0.13, ground - height + math.sin(a) * height * 0.13, height * 0.11, petal)
    c.circle(x, ground - height, height * 0.08, hex_colour("f6d36b"))


def bunting(c: Canvas, x0: float, y0: float, x1: float, y1: float, sag: float, colours: Sequence[Colour],
            flags: int, size: float, string: Colour) -> None:
    """A string of triangular flags hanging in a curve between two points."""
    def at(t: float) -> Point:
        return (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t + sag * 4 * t * (1 - t))
    c.line([at(i / 40) for i in range(41)], string, size * 0.06)
    for i in range(flags):
        t0, t1 = (i + 0.15) / flags, (i + 0.85) / flags
        (ax, ay), (bx, by) = at(t0), at(t1)
        c.polygon([(ax, ay), (bx, by), ((ax + bx) / 2, (ay + by) / 2 + size)], colours[i % len(colours)])


@dataclass(frozen=True)
class Person:
    """A flat, friendly figure: head, hair, a dress or a shirt and trousers, arms, legs."""

    x: float
    ground: float
    height: float
    clothes: Colour
    skin: Colour
    hair: Colour
    hair_style: str = "bun"        # bun, long, short, scarf, curly
    trousers: Colour | None = None  # None: a dress
    scarf: Colour | None = None

    @property
    def head_r(self) -> float:
        return self.height * (0.105 if self.height < 120 else 0.09)

    @property
    def head_y(self) -> float:
        return self.ground - self.height + self.head_r

    @property
    def shoulder_y(self) -> float:
        return self.head_y + self.head_r * 1.55

    @property
    def shoulder_w(self) -> float:
        return self.height * 0.13

    def shoulder(self, side: int) -> Point:
        return (self.x + side * self.shoulder_w * 0.82, self.shoulder_y + self.height * 0.03)

    def hand_down(self, side: int) -> Point:
        return (self.x + side * self.shoulder_w * 1.15, self.shoulder_y + self.height * 0.33)


def draw_person(c: Canvas, who: Person, hands: dict[int, Point] | None = None, baby: Colour | None = None) -> None:
    """Draw ``who``; ``hands`` moves a hand (side -1 left, 1 right) to a point, e.g. a child's hand;
    ``baby`` puts a baby wrapped in that colour in the figure's arms."""
    h, x = who.height, who.x
    hands = dict(hands or {})
    hip_y = who.shoulder_y + h * 0.36
    limb = h * 0.055
    # Legs, then the body over them.
    leg_colour = who.trousers or mix(who.skin, (0, 0, 0), 0.08)
    for side in (-1, 1):
        c.line([(x + side * h * 0.045, hip_y), (x + side * h * 0.05, who.ground - limb / 2)], leg_colour, limb * 1.1)
        c.ellipse(x + side * h * 0.065, who.ground - limb * 0.35, limb * 0.9, limb * 0.45, mix(who.clothes, (0, 0, 0), 0.45))
    if who.hair_style == "long":
        c.rect(x - who.head_r * 1.05, who.head_y - who.head_r * 0.2, x + who.head_r * 1.05,
               who.head_y + who.head_r * 2.0, who.hair, radius=who.head_r * 0.6)
    top = who.shoulder_y - h * 0.02
    if who.trousers:
        c.rect(x - who.shoulder_w, top, x + who.shoulder_w, hip_y + h * 0.04, who.clothes, radius=h * 0.06)
    else:
        hem = hip_y + h * 0.14
        c.polygon([(x - who.shoulder_w * 0.95, top + h * 0.04), (x + who.shoulder_w * 0.95, top + h * 0.04),
                   (x + who.shoulder_w * 1.45, hem), (x - who.shoulder_w * 1.45, hem)], who.clothes)
        c.rect(x - who.shoulder_w, top, x + who.shoulder_w, top + h * 0.16, who.clothes, radius=h * 0.06)
    c.rect(x - who.head_r * 0.35, who.head_y + who.head_r * 0.6, x + who.head_r * 0.35, top + h * 0.02, who.skin)
    # Arms: to the given points, else hanging down (or round the baby).
    bx, by = x + who.shoulder_w * 0.2, who.shoulder_y + h * 0.13  # where a baby is held
    if baby is not None:
        hands.setdefault(-1, (bx + h * 0.09, by + h * 0.06))
        hands.setdefault(1, (bx - h * 0.02, by - h * 0.05))
    sleeve = mix(who.clothes, (0, 0, 0), 0.12)
    elbows = {}
    for side in (-1, 1):
        sx, sy = who.shoulder(side)
        hx, hy = hands.get(side, who.hand_down(side))
        ex, ey = (sx + hx) / 2 + side * h * 0.04 * (1 if side not in hands else 0.3), (sy + hy) / 2 + h * 0.02
        if baby is not None and side == -1:
            ex, ey = sx - h * 0.02, by + h * 0.05
        elbows[side] = (ex, ey)
        c.line([(sx, sy), (ex, ey)], sleeve, limb)
        c.line([(ex, ey), (hx, hy)], who.skin, limb * 0.85)
        c.circle(hx, hy, limb * 0.55, who.skin)
    if baby is not None:
        # the bundle, the baby's head at the mother's shoulder, her forearm under it
        c.ellipse(bx, by, h * 0.13, h * 0.07, baby)
        c.ellipse(bx + h * 0.02, by + h * 0.01, h * 0.09, h * 0.045, mix(baby, who.clothes, 0.25))
        head = mix(SKIN[(SKIN.index(who.skin) + 1) % len(SKIN)] if who.skin in SKIN else who.skin, who.skin, 0.5)
        c.circle(bx - h * 0.1, by - h * 0.035, h * 0.05, head)
        c.pieslice(bx - h * 0.1, by - h * 0.045, h * 0.052, h * 0.04, 180, 360, who.hair)
        ex, ey = elbows[-1]
        c.line([(ex, ey), hands[-1]], sleeve, limb * 0.9)
        c.circle(*hands[-1], limb * 0.55, who.skin)
    _head(c, who)


def _head(c: Canvas, who: Person) -> None:
    x, y, r = who.x, who.head_y, who.head_r
    if who.hair_style == "scarf" and who.scarf:
        c.circle(x, y - r * 0.05, r * 1.22, who.scarf)
        c.rect(x - r * 1.05, y, x + r * 1.05, y + r * 1.7, who.scarf, radius=r * 0.5)
    elif who.hair_style == "curly":
        for k in range(8):
            a = math.tau * k / 8
            c.circle(x + math.cos(a) * r * 0.72, y - r * 0.15 + math.sin(a) * r * 0.62, r * 0.55, who.hair)
    else:
        c.circle(x, y - r * 0.12, r * 1.08, who.hair)
    c.circle(x, y, r, who.skin)
    if who.hair_style == "bun":
        c.circle(x + r * 0.55, y - r * 1.05, r * 0.5, who.hair)
        c.pieslice(x, y - r * 0.3, r * 1.08, r * 0.85, 180, 360, who.hair)
    elif who.hair_style in ("long", "short"):
        c.pieslice(x, y - r * 0.3, r * 1.08, r * 0.8, 180, 360, who.hair)
        c.pieslice(x - r * 0.45, y - r * 0.3, r * 0.7, r * 0.5, 180, 330, who.hair)
    elif who.hair_style == "scarf" and who.scarf:
        c.pieslice(x, y - r * 0.4, r * 1.15, r * 0.8, 180, 360, who.scarf)
    # a smile and cheeks: just enough to make them friendly at this size
    c.arc(x + r * 0.1, y + r * 0.05, r * 0.45, 30, 150, mix(who.skin, (60, 20, 10), 0.55), max(0.6, r * 0.1))
    c.circle(x + r * 0.62, y + r * 0.15, r * 0.16, mix(who.skin, (230, 90, 90), 0.3))


def bench(c: Canvas, x: float, ground: float, width: float, colour: Colour) -> None:
    c.rect(x - width / 2, ground - width * 0.22, x + width / 2, ground - width * 0.17, colour, radius=2)
    c.rect(x - width / 2, ground - width * 0.38, x + width / 2, ground - width * 0.33, colour, radius=2)
    for side in (-0.4, 0.4):
        c.rect(x + side * width - 2, ground - width * 0.38, x + side * width + 2, ground, mix(colour, (0, 0, 0), 0.2))


# --- the scenes --------------------------------------------------------------------------------

def garden_with_families(c: Canvas, p: Palette, rng: random.Random) -> None:
    """2026-11 hero: mothers and children in the garden of a Mother Centre."""
    c.vertical_gradient(0, c.height, p.sky_top, p.sky_bottom)
    sun(c, c.width * 0.82, c.height * 0.24, c.height * 0.1, p)
    cloud(c, c.width * 0.18, c.height * 0.18, 48, mix(p.paper, p.sky_top, 0.2))
    cloud(c, c.width * 0.55, c.height * 0.12, 34, mix(p.paper, p.sky_top, 0.3))
    hills(c, c.height * 0.62, 60, p.hill_far, 0.4, 1.2)
    hills(c, c.height * 0.74, 40, p.hill_near, 2.0, 1.8)
    ground = c.height * 0.9
    c.rect(0, c.height * 0.8, c.width, c.height, p.ground)
    # the Mother Centre's house at the back, left
    house(c, c.width * 0.13, c.height * 0.8, 190, p, door=p.accent)
    tree(c, c.width * 0.3, c.height * 0.8, 170, p)
    tree(c, c.width * 0.93, c.height * 0.8, 150, p)
    tree(c, c.width * 0.235, c.height * 0.8, 120, p, round_top=False)
    bunting(c, c.width * 0.3, c.height * 0.42, c.width * 0.7, c.height * 0.5, 40, p.clothes, 11, 22, p.ink)
    bench(c, c.width * 0.86, c.height * 0.93, 110, p.trunk)
    for i in range(14):
        x = 40 + i * (c.width - 80) / 13 + rng.uniform(-15, 15)
        flower(c, x, c.height * (0.97 + rng.uniform(0, 0.02)), rng.uniform(22, 34), p.clothes[i % len(p.clothes)], p)
    # the families
    mum1 = Person(c.width * 0.42, ground, 190, p.clothes[0], SKIN[3], HAIR[0], "scarf", scarf=p.clothes[2])
    kid1 = Person(c.width * 0.49, ground, 105, p.clothes[3], SKIN[3], HAIR[0], "curly", trousers=p.ink)
    draw_person(c, kid1, hands={-1: (kid1.x - 32, kid1.shoulder_y + 20)})
    draw_person(c, mum1, hands={1: (kid1.x - 32, kid1.shoulder_y + 20)})
    mum2 = Person(c.width * 0.6, ground + 4, 185, p.clothes[1], SKIN[1], HAIR[1], "bun")
    draw_person(c, mum2, baby=p.paper)
    gran = Person(c.width * 0.72, ground + 2, 175, p.clothes[4], SKIN[0], HAIR[4], "short", trousers=p.clothes[3])
    kid2 = Person(c.width * 0.78, ground + 2, 95, p.clothes[2], SKIN[0], HAIR[3], "long")
    draw_person(c, kid2, hands={-1: (kid2.x - 30, kid2.shoulder_y + 24), 1: (kid2.x + 24, kid2.shoulder_y - 30)})
    draw_person(c, gran, hands={1: (kid2.x - 30, kid2.shoulder_y + 24)})
    c.circle(kid2.x + 30, kid2.shoulder_y - 58, 13, p.accent)  # a balloon
    c.line([(kid2.x + 24, kid2.shoulder_y - 30), (kid2.x + 30, kid2.shoulder_y - 45)], p.ink, 1.5, round_ends=False)
    ball = (c.width * 0.34, ground - 14)
    c.circle(*ball, 14, p.clothes[5])
    c.arc(ball[0], ball[1], 14, 200, 340, p.paper, 3)


def house(c: Canvas, x: float, ground: float, width: float, p: Palette, door: Colour, storeys: int = 1) -> None:
    """A small community house: walls, a pitched roof, windows with flower boxes, a door."""
    h = width * (0.55 + 0.35 * (storeys - 1))
    c.rect(x - width / 2, ground - h, x + width / 2, ground, p.wall)
    c.polygon([(x - width * 0.6, ground - h + 2), (x, ground - h - width * 0.38), (x + width * 0.6, ground - h + 2)], p.roof)
    c.rect(x + width * 0.22, ground - h - width * 0.33, x + width * 0.32, ground - h - width * 0.12, mix(p.roof, (0, 0, 0), 0.25))
    c.rect(x - width * 0.1, ground - width * 0.34, x + width * 0.1, ground, door, radius=width * 0.04)
    c.circle(x + width * 0.06, ground - width * 0.17, width * 0.012, p.sun)
    glass = mix(p.sky_top, (255, 255, 255), 0.35)
    rows = [ground - width * 0.4] + [ground - width * 0.4 - width * 0.35 * k for k in range(1, storeys)]
    for row in rows:
        for wx in (x - width * 0.32, x + width * 0.32) if row == rows[0] else (x - width * 0.32, x, x + width * 0.32):
            c.rect(wx - width * 0.09, row, wx + width * 0.09, row + width * 0.16, mix(p.wall, (0, 0, 0), 0.25), radius=2)
            c.rect(wx - width * 0.075, row + width * 0.015, wx + width * 0.075, row + width * 0.145, glass, radius=2)
            c.rect(wx - width * 0.005, row + width * 0.015, wx + width * 0.005, row + width * 0.145, mix(p.wall, (0, 0, 0), 0.25))
            c.rect(wx - width * 0.1, row + width * 0.16, wx + width * 0.1, row + width * 0.19, p.trunk, radius=2)
            for k in range(4):
                c.circle(wx - width * 0.07 + k * width * 0.047, row + width * 0.155, width * 0.022, p.clothes[(k + 1) % 4])


def opening_day(c: Canvas, p: Palette, rng: random.Random) -> None:
    """2026-10 hero: opening day at a new centre in a former school, green hills behind."""
    c.vertical_gradient(0, c.height, p.sky_top, p.sky_bottom)
    sun(c, c.width * 0.12, c.height * 0.22, c.height * 0.09, p)
    cloud(c, c.width * 0.78, c.height * 0.16, 44, mix(p.paper, p.sky_top, 0.2))
    for i, (base, amp, shade) in enumerate(((0.5, 70, 0.0), (0.6, 55, 0.35), (0.7, 40, 0.7))):
        hills(c, c.height * base, amp, mix(p.hill_far, p.hill_near, shade), 1.3 * i + 0.5, 1.6 + 0.4 * i)
    c.rect(0, c.height * 0.82, c.width, c.height, p.ground)
    ground = c.height * 0.84
    # the former school: a long low building with many windows and a banner of flags
    bx0, bx1, top = c.width * 0.3, c.width * 0.74, c.height * 0.42
    c.rect(bx0, top, bx1, ground, p.wall)
    c.polygon([(bx0 - 20, top + 4), (bx0 + 40, top - 50), (bx1 - 40, top - 50), (bx1 + 20, top + 4)], p.roof)
    frame = mix(p.wall, p.trunk, 0.45)
    for k in range(6):
        wx = bx0 + 40 + k * (bx1 - bx0 - 80) / 5
        if abs(wx - (bx0 + bx1) / 2) < 60:
            continue
        c.rect(wx - 26, top + 40, wx + 26, top + 100, frame, radius=3)
        c.rect(wx - 22, top + 44, wx + 22, top + 96, mix(p.sky_top, (255, 255, 255), 0.35), radius=2)
        c.rect(wx - 1.5, top + 44, wx + 1.5, top + 96, frame)
    mid = (bx0 + bx1) / 2
    c.rect(mid - 48, ground - 120, mid + 48, ground, p.accent, radius=6)
    c.rect(mid - 40, ground - 112, mid - 2, ground, mix(p.accent, (255, 255, 255), 0.15), radius=4)
    c.rect(mid + 2, ground - 112, mid + 40, ground, mix(p.accent, (255, 255, 255), 0.15), radius=4)
    c.polygon([(mid - 70, ground - 128), (mid, ground - 168), (mid + 70, ground - 128)], mix(p.roof, (0, 0, 0), 0.15))
    # the ribbon across the door, with a bow, waiting to be cut
    c.line([(mid - 90, ground - 60), (mid + 90, ground - 60)], p.clothes[1], 6, round_ends=False)
    c.polygon([(mid, ground - 60), (mid - 22, ground - 76), (mid - 22, ground - 44)], p.clothes[1])
    c.polygon([(mid, ground - 60), (mid + 22, ground - 76), (mid + 22, ground - 44)], p.clothes[1])
    bunting(c, bx0 - 10, top + 12, bx1 + 10, top + 12, 26, p.clothes, 16, 18, p.ink)
    tree(c, c.width * 0.2, ground, 180, p)
    tree(c, c.width * 0.86, ground, 200, p)
    tree(c, c.width * 0.95, ground, 140, p, round_top=False)
    bush(c, bx0 + 30, ground, 40, p, flowers=p.clothes[5])
    bush(c, bx1 - 30, ground, 40, p, flowers=p.clothes[2])
    # the mothers who opened it, and their children, in front
    crowd = [
        (0.08, 175, 2, 4, 0, "scarf", None, 1), (0.16, 98, 3, 4, 0, "curly", p.ink, None),
        (0.26, 180, 0, 3, 1, "bun", None, None), (0.4, 185, 5, 4, 2, "scarf", None, 3),
        (0.47, 100, 1, 3, 0, "long", None, None), (0.58, 178, 4, 2, 0, "short", p.clothes[6], None),
        (0.66, 92, 6, 4, 0, "curly", p.clothes[3], None), (0.77, 182, 3, 3, 1, "long", None, None),
        (0.9, 172, 2, 4, 0, "scarf", None, 0),
    ]
    people = []
    for fx, height, dress, skin, hair, style, trousers, scarf in crowd:
        people.append(Person(c.width * fx, c.height * 0.97 + rng.uniform(-4, 4), height, p.clothes[dress],
                             SKIN[skin], HAIR[hair], style, trousers, p.clothes[scarf] if scarf is not None else None))
    for who in sorted(people, key=lambda w: w.height):
        hands = {1: (who.x + 40, who.head_y - 30)} if who.height < 110 else None  # the children wave
        draw_person(c, who, hands=hands, baby=p.paper if who.x == people[7].x else None)


def round_table(c: Canvas, p: Palette, rng: random.Random) -> None:
    """2026-11 article: coordinators from six countries around a table, seen from above."""
    c.vertical_gradient(0, c.height, mix(p.wall, p.paper, 0.3), p.wall)
    # floorboards
    for k in range(1, 9):
        c.rect(0, k * c.height / 9 - 1, c.width, k * c.height / 9 + 1, mix(p.wall, (0, 0, 0), 0.06))
    cx, cy = c.width / 2, c.height / 2
    rx, ry = c.width * 0.28, c.height * 0.25
    seats = 10
    chairs = []
    for k in range(seats):
        a = math.tau * (k + 0.5) / seats
        chairs.append((cx + math.cos(a) * (rx + 56), cy + math.sin(a) * (ry + 46), a))
    for x, y, a in chairs:  # chair seats, under the people
        c.circle(x + math.cos(a) * 14, y + math.sin(a) * 14, 40, mix(p.trunk, p.wall, 0.35))
    for k, (x, y, a) in enumerate(chairs):
        colour = p.clothes[k % len(p.clothes)]
        # shoulders (an ellipse across the direction to the table) and arms on the table
        tx, ty = -math.cos(a), -math.sin(a)
        px, py = -ty, tx
        shoulder = [(x + px * 38 * s + tx * 6, y + py * 38 * s + ty * 6) for s in (-1, 1)]
        skin = SKIN[(k * 2) % len(SKIN)]
        for (sx, sy), s in zip(shoulder, (-1, 1)):
            hx, hy = sx + tx * 58 - px * 10 * s, sy + ty * 58 - py * 10 * s
            c.line([(sx, sy), (hx, hy)], mix(colour, (0, 0, 0), 0.12), 18)
            c.circle(hx, hy, 9, skin)
        c.ellipse(x, y, 44 if abs(math.cos(a)) < 0.7 else 30, 30 if abs(math.cos(a)) < 0.7 else 44, colour)
        c.circle(x - tx * 4, y - ty * 4, 25, HAIR[k % len(HAIR)] if k % 3 else p.clothes[(k + 2) % len(p.clothes)])
        if k % 4 == 1:
            c.circle(x - tx * 20, y - ty * 20, 11, HAIR[k % len(HAIR)])  # a bun
    # the table and what is on it
    c.ellipse(cx + 6, cy + 10, rx, ry, mix(p.trunk, (0, 0, 0), 0.25))
    c.ellipse(cx, cy, rx, ry, mix(p.trunk, p.wall, 0.15))
    c.ellipse(cx, cy, rx - 14, ry - 14, mix(p.trunk, p.wall, 0.25))
    for k, (x, y, a) in enumerate(chairs):
        tx, ty = math.cos(a), math.sin(a)
        dx, dy = cx + tx * (rx - 62), cy + ty * (ry - 50)
        if k % 2 == 0:  # papers
            c.polygon(_rotated_rect(dx, dy, 46, 60, a + 0.2), p.paper)
            for line in range(4):
                off = -18 + line * 11
                c.line([_rot(dx, dy, -14, off, a + 0.2), _rot(dx, dy, 14, off, a + 0.2)], mix(p.paper, p.ink, 0.35), 2.5)
        else:  # a cup of tea
            c.circle(dx, dy, 17, p.paper)
            c.circle(dx, dy, 12, mix(p.trunk, p.sun, 0.35))
            c.circle(dx + tx * 20, dy + ty * 20, 6, p.paper)
    # in the middle: a plant and a map of pins, the countries they came from
    c.ellipse(cx, cy, 120, 70, mix(p.hill_near, p.paper, 0.35))
    for k in range(6):
        a = math.tau * k / 6 + 0.3
        px_, py_ = cx + math.cos(a) * 70, cy + math.sin(a) * 35
        c.circle(px_, py_ + 3, 9, mix(p.ink, p.wall, 0.5))
        c.circle(px_, py_, 9, p.clothes[k])
    c.circle(cx, cy, 26, p.leaf_dark)
    for k in range(7):
        a = math.tau * k / 7
        c.ellipse(cx + math.cos(a) * 22, cy + math.sin(a) * 22, 16, 16, p.leaf)


def _rot(cx: float, cy: float, x: float, y: float, a: float) -> Point:
    return (cx + x * math.cos(a) - y * math.sin(a), cy + x * math.sin(a) + y * math.cos(a))


def _rotated_rect(cx: float, cy: float, w: float, h: float, a: float) -> list[Point]:
    return [_rot(cx, cy, x, y, a) for x, y in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]


def baby_cafe(c: Canvas, p: Palette, rng: random.Random) -> None:
    """2026-11 card: tea, a baby scale and a blanket at the Tuesday baby café."""
    c.vertical_gradient(0, c.height, mix(p.sky_top, p.paper, 0.2), p.sky_bottom)
    gingham(c, c.height * 0.68, mix(p.accent, p.paper, 0.55), p.paper, 34)  # the tablecloth
    # a window with a plant behind
    c.rect(c.width * 0.58, c.height * 0.08, c.width * 0.92, c.height * 0.5, mix(p.wall, (0, 0, 0), 0.15), radius=6)
    c.rect(c.width * 0.6, c.height * 0.11, c.width * 0.9, c.height * 0.47, mix(p.sky_top, (255, 255, 255), 0.3), radius=4)
    c.rect(c.width * 0.745, c.height * 0.11, c.width * 0.755, c.height * 0.47, mix(p.wall, (0, 0, 0), 0.15))
    sun(c, c.width * 0.84, c.height * 0.2, 18, p)
    # the teapot
    tx, ty = c.width * 0.24, c.height * 0.56
    c.ellipse(tx, ty + 4, 78, 70, p.accent)
    c.line([(tx + 70, ty + 10), (tx + 118, ty - 34)], p.accent, 16)
    c.arc(tx - 78, ty, 36, 90, 270, p.accent, 13)
    c.ellipse(tx, ty - 62, 42, 12, mix(p.accent, (0, 0, 0), 0.2))
    c.circle(tx, ty - 76, 10, mix(p.accent, (0, 0, 0), 0.2))
    for k in range(5):
        c.circle(tx - 40 + k * 20, ty + 10, 6, mix(p.accent, p.paper, 0.6))
    # two cups, steam curling as hearts
    for k, cx in enumerate((c.width * 0.5, c.width * 0.66)):
        cy = c.height * 0.7
        c.ellipse(cx, cy + 8, 48, 10, mix(p.paper, p.ink, 0.12))
        c.pieslice(cx, cy - 34, 34, 40, 0, 180, p.clothes[2 + k * 1])
        c.rect(cx - 34, cy - 46, cx + 34, cy - 32, p.clothes[2 + k * 1])
        c.arc(cx + 34, cy - 22, 12, 270, 90, p.clothes[2 + k * 1], 6)
        c.ellipse(cx, cy - 46, 34, 7, mix(p.trunk, p.sun, 0.3))
        steam = mix(p.paper, p.sky_top, 0.1)
        c.line([(cx - 6, cy - 56), (cx + 4, cy - 68), (cx - 6, cy - 80), (cx + 4, cy - 92)], steam, 5)
        heart(c, cx + 2, cy - 112, 10, mix(p.accent, p.paper, 0.35))
    # the baby scale with a small baby on it
    sx, sy = c.width * 0.84, c.height * 0.74
    c.rect(sx - 62, sy - 26, sx + 62, sy + 6, p.paper, radius=10)
    c.circle(sx, sy - 10, 10, p.clothes[3])
    c.pieslice(sx, sy - 26, 70, 36, 180, 360, p.clothes[3])
    c.ellipse(sx + 10, sy - 50, 34, 18, p.paper)
    c.circle(sx - 34, sy - 54, 16, SKIN[2])


def gingham(c: Canvas, top: float, colour: Colour, ground: Colour, step: float) -> None:
    """A checked tablecloth from ``top`` down: stripes both ways, darker where they cross."""
    c.rect(0, top, c.width, c.height, ground)
    half = mix(colour, ground, 0.5)
    columns = range(int(c.width // step) + 1)
    for k in columns:
        c.rect(k * 2 * step, top, k * 2 * step + step, c.height, half)
    y, row = top, 0
    while y < c.height:
        if row % 2:
            c.rect(0, y, c.width, y + step * 0.6, half)
            for k in columns:
                c.rect(k * 2 * step, y, k * 2 * step + step, y + step * 0.6, colour)
        y, row = y + step * 0.6, row + 1
    c.rect(0, top, c.width, top + 4, mix(colour, (0, 0, 0), 0.2))


def heart(c: Canvas, x: float, y: float, size: float, colour: Colour) -> None:
    c.circle(x - size * 0.5, y, size * 0.6, colour)
    c.circle(x + size * 0.5, y, size * 0.6, colour)
    c.polygon([(x - size * 1.07, y + size * 0.22), (x + size * 1.07, y + size * 0.22), (x, y + size * 1.35)], colour)


def anniversary(c: Canvas, p: Palette, rng: random.Random) -> None:
    """2026-11 card: a first birthday cake with one candle in an open kitchen."""
    c.vertical_gradient(0, c.height, p.sky_bottom, mix(p.sky_top, p.sun, 0.15))
    bunting(c, -10, c.height * 0.12, c.width + 10, c.height * 0.1, 40, p.clothes, 9, 26, p.ink)
    # shelves with jars and pots
    c.rect(c.width * 0.06, c.height * 0.44, c.width * 0.42, c.height * 0.47, p.trunk)
    for k, colour in enumerate((p.clothes[3], p.clothes[1], p.clothes[2], p.clothes[6])):
        jx = c.width * 0.1 + k * 42
        c.rect(jx, c.height * 0.44 - 34 - (k % 2) * 8, jx + 30, c.height * 0.44, colour, radius=6)
        c.rect(jx + 4, c.height * 0.44 - 40 - (k % 2) * 8, jx + 26, c.height * 0.44 - 32 - (k % 2) * 8,
               mix(colour, (0, 0, 0), 0.3), radius=2)
    c.rect(0, c.height * 0.72, c.width, c.height, mix(p.trunk, p.wall, 0.35))
    c.rect(0, c.height * 0.72, c.width, c.height * 0.745, mix(p.trunk, (0, 0, 0), 0.1))
    # a pot on the left with steam
    px, py = c.width * 0.2, c.height * 0.72
    c.rect(px - 50, py - 58, px + 50, py, mix(p.ink, p.wall, 0.4), radius=12)
    c.rect(px - 64, py - 52, px + 64, py - 44, mix(p.ink, p.wall, 0.3), radius=4)
    c.rect(px - 54, py - 66, px + 54, py - 56, mix(p.ink, p.wall, 0.3), radius=5)
    for k in range(3):
        x0 = px - 24 + k * 24
        c.line([(x0, py - 80), (x0 + 8, py - 96), (x0, py - 112), (x0 + 8, py - 128)], mix(p.paper, p.sky_top, 0.2), 5)
    # the cake
    kx, ky = c.width * 0.64, c.height * 0.72
    c.ellipse(kx, ky + 2, 120, 14, mix(p.paper, p.ink, 0.1))
    c.rect(kx - 100, ky - 70, kx + 100, ky - 4, p.clothes[5], radius=10)
    c.rect(kx - 80, ky - 120, kx + 80, ky - 66, mix(p.clothes[5], p.paper, 0.35), radius=10)
    for k in range(9):  # icing drops
        c.circle(kx - 80 + k * 20, ky - 70, 9, p.paper)
        c.circle(kx - 100 + k * 25, ky - 6 - (k % 2) * 4, 5, p.sun)
    c.rect(kx - 6, ky - 170, kx + 6, ky - 120, p.clothes[3], radius=3)
    c.ellipse(kx, ky - 184, 10, 16, p.sun)
    c.ellipse(kx, ky - 180, 5, 9, mix(p.sun, p.paper, 0.6))
    for k, (dx, dy) in enumerate(((-150, -150), (160, -170), (-120, -60), (190, -90), (130, -210))):
        star(c, kx + dx, ky + dy, 9, p.clothes[k % 3])


def star(c: Canvas, x: float, y: float, r: float, colour: Colour) -> None:
    pts = []
    for k in range(10):
        a = -math.pi / 2 + math.tau * k / 10
        rr = r if k % 2 == 0 else r * 0.45
        pts.append((x + math.cos(a) * rr, y + math.sin(a) * rr))
    c.polygon(pts, colour)


def portrait(c: Canvas, p: Palette, rng: random.Random, skin: Colour = SKIN[4], scarf: Colour | None = None,
             hair: Colour = HAIR[0], style: str = "scarf") -> None:
    """A quote's portrait: head and shoulders on a soft round background."""
    c.rect(0, 0, c.width, c.height, mix(p.sun, p.paper, 0.55))
    c.circle(c.width * 0.5, c.height * 0.56, c.width * 0.42, mix(p.sun, p.paper, 0.3))
    w = c.width
    body = scarf or p.clothes[0]
    c.ellipse(w * 0.5, w * 1.02, w * 0.42, w * 0.3, body)
    c.rect(w * 0.43, w * 0.5, w * 0.57, w * 0.78, skin)
    r = w * 0.2
    if style == "scarf":
        c.circle(w * 0.5, w * 0.43, r * 1.25, scarf or p.clothes[2])
        c.rect(w * 0.5 - r * 1.1, w * 0.43, w * 0.5 + r * 1.1, w * 0.43 + r * 1.8, scarf or p.clothes[2], radius=r * 0.6)
    else:
        c.circle(w * 0.5, w * 0.4, r * 1.15, hair)
        c.rect(w * 0.5 - r * 1.15, w * 0.4, w * 0.5 + r * 1.15, w * 0.4 + r * 1.5, hair, radius=r * 0.5)
    c.circle(w * 0.5, w * 0.45, r, skin)
    if style == "scarf":
        c.pieslice(w * 0.5, w * 0.45 - r * 0.45, r * 1.1, r * 0.75, 180, 360, scarf or p.clothes[2])
    else:
        c.pieslice(w * 0.5, w * 0.4, r * 1.15, r * 0.9, 180, 360, hair)
    eye = mix(skin, (20, 10, 5), 0.7)
    for side in (-1, 1):
        c.circle(w * 0.5 + side * r * 0.38, w * 0.45, r * 0.09, eye)
        c.circle(w * 0.5 + side * r * 0.62, w * 0.52, r * 0.14, mix(skin, (230, 90, 90), 0.25))
    c.arc(w * 0.5, w * 0.5, r * 0.38, 25, 155, eye, r * 0.08)


def calendar_page(c: Canvas, p: Palette, rng: random.Random) -> None:
    """2026-10 article: a wall calendar with the closing date ringed, a pencil beside it."""
    c.vertical_gradient(0, c.height, mix(p.sky_bottom, p.paper, 0.3), mix(p.sky_top, p.wall, 0.4))
    w, h = c.width, c.height
    x0, x1, y0, y1 = w * 0.2, w * 0.7, h * 0.16, h * 0.9
    c.rect(x0 + 10, y0 + 14, x1 + 10, y1 + 14, mix(p.sky_top, p.ink, 0.25), radius=16)  # shadow
    c.rect(x0, y0, x1, y1, p.paper, radius=16)
    c.rect(x0, y0, x1, y0 + (y1 - y0) * 0.22, p.accent, radius=16)
    c.rect(x0, y0 + (y1 - y0) * 0.12, x1, y0 + (y1 - y0) * 0.22, p.accent)
    for k in range(6):  # the binding rings
        rx = x0 + (x1 - x0) * (k + 0.5) / 6
        c.rect(rx - 6, y0 - 22, rx + 6, y0 + 18, mix(p.ink, p.wall, 0.4), radius=6)
        c.circle(rx, y0 + 24, 7, mix(p.accent, (0, 0, 0), 0.35))
    gx0, gy0 = x0 + 34, y0 + (y1 - y0) * 0.3
    cols, rows = 7, 5
    cw, ch = (x1 - x0 - 68) / cols, (y1 - gy0 - 30) / rows
    ringed = (4, 2)
    for r in range(rows):
        for col in range(cols):
            day = r * cols + col
            if day > 30:
                continue
            bx, by = gx0 + col * cw, gy0 + r * ch
            shade = mix(p.paper, p.accent, 0.14 if col >= 5 else 0.07)
            c.rect(bx + 4, by + 4, bx + cw - 4, by + ch - 4, shade, radius=6)
            c.rect(bx + 12, by + 12, bx + 12 + cw * 0.28, by + 18, mix(p.paper, p.ink, 0.3), radius=2)
            if (r, col) in ((1, 2), (3, 1)):  # the two webinars
                c.circle(bx + cw * 0.62, by + ch * 0.6, min(cw, ch) * 0.16, p.clothes[3])
            if (r, col) == ringed:
                c.ring(bx + cw / 2, by + ch / 2, min(cw, ch) * 0.52, p.clothes[1], 6)
    # a pencil leaning on the right
    a = -1.05
    px, py = w * 0.8, h * 0.62
    c.polygon(_rotated_rect(px, py, 300, 34, a), p.clothes[2])
    c.polygon([_rot(px, py, 150, -17, a), _rot(px, py, 150, 17, a), _rot(px, py, 190, 0, a)], mix(p.trunk, p.wall, 0.4))
    c.polygon([_rot(px, py, 178, -5, a), _rot(px, py, 178, 5, a), _rot(px, py, 190, 0, a)], p.ink)
    c.polygon(_rotated_rect(*_rot(px, py, -160, 0, a), 26, 34, a), p.clothes[5])


def kigali_garden(c: Canvas, p: Palette, rng: random.Random) -> None:
    """2026-10 image: the centre's garden, with raised beds, a swing and a slide."""
    c.vertical_gradient(0, c.height, p.sky_top, p.sky_bottom)
    hills(c, c.height * 0.45, 60, p.hill_far, 2.2, 1.3)
    hills(c, c.height * 0.55, 40, mix(p.hill_far, p.hill_near, 0.5), 0.7, 2.0)
    c.rect(0, c.height * 0.6, c.width, c.height, p.ground)
    cloud(c, c.width * 0.2, c.height * 0.18, 46, mix(p.paper, p.sky_top, 0.2))
    cloud(c, c.width * 0.78, c.height * 0.12, 36, mix(p.paper, p.sky_top, 0.3))
    tree(c, c.width * 0.1, c.height * 0.66, 230, p)
    tree(c, c.width * 0.36, c.height * 0.64, 170, p, round_top=False)
    tree(c, c.width * 0.58, c.height * 0.63, 150, p)
    ground = c.height * 0.86
    # the playground: a swing frame and a slide
    sx = c.width * 0.74
    for dx in (-90, 90):
        c.line([(sx + dx - 30, ground), (sx + dx, ground - 190)], p.accent, 10)
        c.line([(sx + dx + 30, ground), (sx + dx, ground - 190)], p.accent, 10)
    c.line([(sx - 100, ground - 190), (sx + 100, ground - 190)], mix(p.accent, (0, 0, 0), 0.2), 12)
    c.line([(sx - 30, ground - 190), (sx - 40, ground - 62)], p.ink, 3, round_ends=False)
    c.line([(sx + 30, ground - 190), (sx + 10, ground - 64)], p.ink, 3, round_ends=False)
    c.rect(sx - 50, ground - 66, sx + 18, ground - 56, p.trunk, radius=3)
    kid = Person(sx - 16, ground - 18, 86, p.clothes[2], SKIN[3], HAIR[0], "curly", trousers=p.clothes[3])
    draw_person(c, kid, hands={-1: (sx - 38, ground - 110), 1: (sx + 14, ground - 112)})
    lx = c.width * 0.94
    c.rect(lx - 8, ground - 150, lx, ground, mix(p.ink, p.wall, 0.4))
    c.rect(lx + 40, ground - 150, lx + 48, ground, mix(p.ink, p.wall, 0.4))
    for k in range(5):
        c.rect(lx - 4, ground - 26 - k * 28, lx + 44, ground - 20 - k * 28, mix(p.ink, p.wall, 0.4))
    c.polygon([(lx - 8, ground - 150), (lx - 10, ground - 136), (lx - 130, ground - 6), (lx - 150, ground - 6)], p.clothes[1])
    # raised beds with vegetables
    for k in range(3):
        bx = c.width * (0.08 + k * 0.17)
        by = ground - 10 + k * 14
        c.rect(bx - 10, by - 40, bx + 170, by, p.trunk, radius=4)
        c.rect(bx - 4, by - 46, bx + 164, by - 30, mix(p.trunk, (0, 0, 0), 0.35), radius=4)
        for j in range(6):
            vx = bx + 10 + j * 28
            if k == 0:
                c.ellipse(vx, by - 56, 12, 18, p.leaf)
                c.circle(vx, by - 48, 8, p.clothes[5])
            elif k == 1:
                for m in range(3):
                    c.ellipse(vx - 8 + m * 8, by - 60, 5, 16, p.leaf_dark)
                c.circle(vx, by - 46, 7, p.clothes[1])
            else:
                c.circle(vx, by - 58, 14, p.leaf)
                c.circle(vx + 5, by - 62, 8, mix(p.leaf, (255, 255, 255), 0.25))
    # a watering can and a mother watering
    mum = Person(c.width * 0.52, c.height * 0.93, 175, p.clothes[0], SKIN[4], HAIR[0], "scarf", scarf=p.clothes[2])
    can = (mum.x - 66, mum.shoulder_y + 70)
    draw_person(c, mum, hands={-1: can})
    c.rect(can[0] - 34, can[1] - 4, can[0] + 8, can[1] + 32, p.clothes[3], radius=6)
    c.line([(can[0] - 30, can[1] + 10), (can[0] - 64, can[1] - 12)], p.clothes[3], 7)
    for k in range(5):
        c.circle(can[0] - 70 - k * 6, can[1] - 4 + k * 12, 3, mix(p.sky_top, (255, 255, 255), 0.2))
    sun(c, c.width * 0.5, c.height * 0.16, 34, p)
    for k in range(9):
        flower(c, c.width * 0.04 + k * 52, c.height * 0.99, 26 + (k % 3) * 5, p.clothes[k % len(p.clothes)], p)


def three_generations(c: Canvas, p: Palette, rng: random.Random) -> None:
    """NAMC hero: a family of three generations outside their home, a dome far behind."""
    c.vertical_gradient(0, c.height, p.sky_top, p.sky_bottom)
    sun(c, c.width * 0.86, c.height * 0.22, 40, p)
    cloud(c, c.width * 0.2, c.height * 0.2, 50, p.paper)
    cloud(c, c.width * 0.6, c.height * 0.12, 32, p.paper)
    # the far city with a domed building
    far = mix(p.hill_far, p.sky_bottom, 0.2)
    base = c.height * 0.66
    for k in range(12):
        bx = k * c.width / 12 + 10
        bh = 60 + (k * 37 % 5) * 22
        c.rect(bx, base - bh, bx + c.width / 12 - 18, base, far)
    dx = c.width * 0.55
    c.rect(dx - 130, base - 90, dx + 130, base, mix(far, p.paper, 0.3))
    for k in range(9):
        c.rect(dx - 118 + k * 29, base - 80, dx - 106 + k * 29, base - 6, far)
    c.rect(dx - 60, base - 130, dx + 60, base - 90, mix(far, p.paper, 0.3))
    c.pieslice(dx, base - 130, 58, 70, 180, 360, mix(far, p.paper, 0.3))
    c.rect(dx - 4, base - 222, dx + 4, base - 196, mix(far, p.paper, 0.3))
    hills(c, c.height * 0.74, 24, p.hill_near, 0.2, 1.0)
    c.rect(0, c.height * 0.8, c.width, c.height, p.ground)
    c.rect(0, c.height * 0.88, c.width, c.height * 0.92, mix(p.ground, p.paper, 0.35))  # the path
    house(c, c.width * 0.14, c.height * 0.82, 220, p, door=p.clothes[1], storeys=2)
    tree(c, c.width * 0.32, c.height * 0.82, 180, p)
    tree(c, c.width * 0.94, c.height * 0.82, 160, p, round_top=False)
    bush(c, c.width * 0.26, c.height * 0.82, 44, p, flowers=p.clothes[1])
    ground = c.height * 0.92
    elder = Person(c.width * 0.52, ground, 176, p.clothes[3], SKIN[0], HAIR[4], "short", trousers=p.clothes[6])
    mum = Person(c.width * 0.62, ground, 186, p.clothes[1], SKIN[2], HAIR[1], "long")
    kid = Person(c.width * 0.7, ground, 100, p.clothes[2], SKIN[2], HAIR[1], "curly", trousers=p.clothes[0])
    draw_person(c, kid, hands={-1: (kid.x - 32, kid.shoulder_y + 24), 1: (kid.x + 40, kid.head_y - 20)})
    draw_person(c, elder, hands={1: (elder.x + 44, elder.shoulder_y + 26), -1: (elder.x - 30, ground - 6)})
    c.line([(elder.x - 30, elder.shoulder_y + 58), (elder.x - 34, ground)], p.trunk, 5)  # a cane
    draw_person(c, mum, hands={-1: (elder.x + 44, elder.shoulder_y + 26), 1: (kid.x - 32, kid.shoulder_y + 24)})
    # a dog, because families have them
    dgx, dgy = c.width * 0.8, ground - 10
    c.ellipse(dgx, dgy - 22, 34, 18, p.trunk)
    c.circle(dgx + 34, dgy - 42, 16, p.trunk)
    c.ellipse(dgx + 40, dgy - 56, 6, 12, mix(p.trunk, (0, 0, 0), 0.3))
    for lx in (-24, -10, 16, 28):
        c.line([(dgx + lx, dgy - 14), (dgx + lx, dgy + 6)], p.trunk, 7)
    c.line([(dgx - 32, dgy - 28), (dgx - 48, dgy - 48)], p.trunk, 6)


def four_pm(c: Canvas, p: Palette, rng: random.Random) -> None:
    """NAMC card: the 4 p.m. hour: a kitchen clock at four, a snack, toys on the floor."""
    c.vertical_gradient(0, c.height, mix(p.sky_bottom, p.sun, 0.12), mix(p.sky_top, p.sun, 0.25))
    cx, cy, r = c.width * 0.32, c.height * 0.38, c.height * 0.26
    c.circle(cx + 6, cy + 8, r, mix(p.sky_top, p.ink, 0.25))
    c.circle(cx, cy, r, p.accent)
    c.circle(cx, cy, r * 0.86, p.paper)
    for k in range(12):
        a = math.tau * k / 12
        c.line([(cx + math.cos(a) * r * 0.68, cy + math.sin(a) * r * 0.68),
                (cx + math.cos(a) * r * 0.76, cy + math.sin(a) * r * 0.76)], p.ink, 5 if k % 3 == 0 else 3)
    hour = math.tau * 4 / 12 - math.pi / 2
    c.line([(cx, cy), (cx + math.cos(hour) * r * 0.42, cy + math.sin(hour) * r * 0.42)], p.ink, 9)
    c.line([(cx, cy), (cx, cy - r * 0.62)], p.ink, 6)
    c.circle(cx, cy, 8, p.clothes[5])
    c.rect(0, c.height * 0.74, c.width, c.height, mix(p.trunk, p.wall, 0.5))
    # a plate of apple slices and a glass of milk on the counter
    px, py = c.width * 0.7, c.height * 0.74
    c.ellipse(px, py - 4, 78, 14, p.paper)
    for k in range(4):
        c.pieslice(px - 48 + k * 30, py - 12, 22, 18, 180, 360, p.clothes[5])
        c.pieslice(px - 48 + k * 30, py - 12, 16, 12, 180, 360, mix(p.sun, p.paper, 0.6))
    c.rect(px + 94, py - 84, px + 134, py - 4, mix(p.paper, p.sky_top, 0.4), radius=6)
    c.rect(px + 98, py - 64, px + 130, py - 8, p.paper, radius=4)
    # toy blocks on the floor
    for k, colour in enumerate((p.clothes[1], p.clothes[2], p.clothes[4])):
        bx = c.width * 0.12 + k * 58
        c.rect(bx, c.height * 0.92 - 44, bx + 44, c.height * 0.92, colour, radius=5)
        c.circle(bx + 22, c.height * 0.92 - 22, 8, p.paper)
    c.rect(c.width * 0.12 + 29, c.height * 0.92 - 90, c.width * 0.12 + 73, c.height * 0.92 - 46, p.clothes[6], radius=5)


def two_generations(c: Canvas, p: Palette, rng: random.Random) -> None:
    """NAMC card: a daughter, her teenage son and her father, together on a sofa."""
    c.vertical_gradient(0, c.height, mix(p.sky_bottom, p.wall, 0.5), mix(p.sky_top, p.wall, 0.4))
    # a framed picture and a lamp on the wall behind
    c.rect(c.width * 0.4, c.height * 0.08, c.width * 0.6, c.height * 0.3, p.trunk, radius=4)
    c.rect(c.width * 0.41, c.height * 0.095, c.width * 0.59, c.height * 0.285, p.sky_top, radius=2)
    hills_box(c, c.width * 0.41, c.height * 0.2, c.width * 0.59, c.height * 0.285, p)
    c.rect(0, c.height * 0.86, c.width, c.height, mix(p.trunk, p.wall, 0.45))
    sofa = p.accent
    c.rect(c.width * 0.08, c.height * 0.44, c.width * 0.92, c.height * 0.8, mix(sofa, (0, 0, 0), 0.12), radius=22)
    ground = c.height * 0.86
    people = [
        Person(c.width * 0.28, ground, 210, p.clothes[3], SKIN[1], HAIR[4], "short", trousers=p.clothes[6]),
        Person(c.width * 0.5, ground, 205, p.clothes[1], SKIN[1], HAIR[3], "bun"),
        Person(c.width * 0.72, ground, 200, p.clothes[2], SKIN[1], HAIR[1], "short", trousers=p.ink),
    ]
    for who in people:
        draw_person(c, who)
    c.rect(c.width * 0.06, c.height * 0.66, c.width * 0.94, c.height * 0.86, sofa, radius=18)
    c.rect(c.width * 0.02, c.height * 0.5, c.width * 0.12, c.height * 0.86, sofa, radius=18)
    c.rect(c.width * 0.88, c.height * 0.5, c.width * 0.98, c.height * 0.86, sofa, radius=18)
    heart(c, c.width * 0.5, c.height * 0.76, 14, mix(sofa, p.paper, 0.5))


def hills_box(c: Canvas, x0: float, y0: float, x1: float, y1: float, p: Palette) -> None:
    c.polygon([(x0, y1), (x0, y0 + 4), ((x0 + x1) / 2, y0 - 14), (x1, y0 + 8), (x1, y1)], p.hill_near)


def logo(c: Canvas, p: Palette, rng: random.Random, words: tuple[str, str] = ("", ""), dark: bool = False) -> None:
    """A logo: a round mark (a mother holding a child, both as simple shapes) and the name."""
    mark = mix(p.accent, (255, 255, 255), 0.55) if dark else p.accent
    r = c.height * 0.42
    cx, cy = c.height * 0.5, c.height * 0.5
    c.circle(cx, cy, r, mark)
    inner = (255, 255, 255, 255) if not dark else (0x1f, 0x1f, 0x1f, 255)
    c.circle(cx - r * 0.2, cy - r * 0.45, r * 0.2, inner)                        # mother's head
    c.pieslice(cx - r * 0.2, cy + r * 0.55, r * 0.48, r * 0.82, 180, 360, inner)  # her body
    c.circle(cx + r * 0.38, cy - r * 0.02, r * 0.14, inner)                       # child's head
    c.pieslice(cx + r * 0.38, cy + r * 0.55, r * 0.26, r * 0.42, 180, 360, inner)
    c.line([(cx + r * 0.15, cy + r * 0.05), (cx + r * 0.3, cy + r * 0.22)], inner, r * 0.1)
    text = (235, 235, 235) if dark else p.ink
    c.text(c.height * 1.08, c.height * 0.34, words[0], c.height * 0.28, mark if not dark else text)
    c.text(c.height * 1.08, c.height * 0.68, words[1], c.height * 0.2, text)


# --- what to make ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Picture:
    path: str            # relative to the repository
    size: tuple[int, int]
    paint: Callable[..., None]
    palette: Palette
    options: tuple[tuple[str, object], ...] = ()
    transparent: bool = False  # logos: they sit on whatever the theme's page colour is


PICTURES = [
    Picture("issues/2026-11/images/hero.png", (1200, 480), garden_with_families, WARM),
    Picture("issues/2026-11/images/round-table.png", (1200, 600), round_table, WARM),
    Picture("issues/2026-11/images/baby-cafe.png", (600, 400), baby_cafe, WARM),
    Picture("issues/2026-11/images/anniversary.png", (600, 400), anniversary, WARM),
    Picture("issues/2026-11/images/amina.png", (240, 240), portrait, WARM,
            (("skin", SKIN[4]), ("scarf", WARM.clothes[2]))),
    Picture("issues/2026-10/images/hero.png", (1200, 480), opening_day, WARM),
    Picture("issues/2026-10/images/calendar.png", (1200, 600), calendar_page, WARM),
    Picture("issues/2026-10/images/garden.png", (1200, 672), kigali_garden, WARM),
    Picture("examples/namc/issues/2026-11/images/hero.png", (1200, 480), three_generations, COOL),
    Picture("examples/namc/issues/2026-11/images/four-pm.png", (600, 400), four_pm, COOL),
    Picture("examples/namc/issues/2026-11/images/generations.png", (600, 400), two_generations, COOL),
    Picture("examples/namc/issues/2026-11/images/dana.png", (240, 240), portrait, COOL,
            (("skin", SKIN[0]), ("hair", HAIR[3]), ("style", "long"), ("scarf", COOL.clothes[1]))),
    Picture("assets/logo.png", (400, 96), logo, WARM, (("words", ("Mother Centres", "International Network")),), transparent=True),
    Picture("assets/logo-dark.png", (400, 96), logo, WARM,
            (("words", ("Mother Centres", "International Network")), ("dark", True)), transparent=True),
    Picture("examples/namc/assets/logo.png", (400, 96), logo, COOL, (("words", ("NAMC", "Mothers' Centers")),), transparent=True),
    Picture("examples/namc/assets/logo-dark.png", (400, 96), logo, COOL,
            (("words", ("NAMC", "Mothers' Centers")), ("dark", True)), transparent=True),
]


def render(picture: Picture) -> bytes:
    """The file's bytes: drawn, scaled down, reduced to a palette, saved as an optimised PNG."""
    rng = random.Random(f"{SEED}:{picture.path}")
    canvas = Canvas(*picture.size, picture.palette.accent if picture.transparent else picture.palette.paper,
                    picture.transparent)
    picture.paint(canvas, picture.palette, rng, **dict(picture.options))
    image = canvas.result()
    if not picture.transparent:  # (quantizing with alpha needs another method; logos are tiny anyway)
        image = image.quantize(PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def write_all(root: Path, only: set[str] | None = None) -> list[tuple[Path, int]]:
    written = []
    for picture in PICTURES:
        if only and picture.path not in only:
            continue
        data = render(picture)
        target = root / picture.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append((target, len(data)))
    return written


def differences(root: Path) -> list[str]:
    """The committed pictures that are missing or differ from what the script draws now."""
    with tempfile.TemporaryDirectory(prefix="sample-images-") as tmp:
        fresh = Path(tmp)
        write_all(fresh)
        out = []
        for picture in PICTURES:
            committed = root / picture.path
            if not committed.is_file():
                out.append(f"{picture.path}: missing")
            elif committed.read_bytes() != (fresh / picture.path).read_bytes():
                out.append(f"{picture.path}: differs from the script's drawing")
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:3]))
    parser.add_argument("--check", action="store_true", help="compare the committed files with a fresh drawing; write nothing")
    parser.add_argument("--list", action="store_true", help="list the pictures, their sizes and bytes")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this script's)")
    parser.add_argument("only", nargs="*", help="draw only these paths (relative to the repository)")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences(args.root)
        for line in problems:
            print(f"Error: {line}; run scripts/make_sample_images.py", file=sys.stderr)
        if not problems:
            print(f"{len(PICTURES)} pictures match the script")
        return 1 if problems else 0
    if args.list:
        for picture in PICTURES:
            print(f"{picture.path}  {picture.size[0]}x{picture.size[1]}  {picture.paint.__name__}")
        return 0
    for target, size in write_all(args.root, set(args.only) or None):
        print(f"Wrote {target.relative_to(args.root)} ({size / 1000:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
