"""The stylesheet's colours keep WCAG AA contrast (4.5:1) for the text drawn on them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import trillian

CSS = (Path(trillian.__file__).parent / "static" / "app.css").read_text()
WHITE = "#ffffff"


def colour(name: str) -> str:
    found = re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS)
    assert found, f"--{name} is not defined"
    return found.group(1)


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_formula_on_known_pairs() -> None:
    assert contrast("#000000", WHITE) == pytest.approx(21)
    assert contrast("#777777", WHITE) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("state", ["completed", "failed", "running", "aborted", "new"])
def test_white_badge_text_on_each_state_colour(state: str) -> None:
    assert contrast(WHITE, colour(state)) >= 4.5


@pytest.mark.parametrize("text", ["text", "muted", "accent-dark"])
@pytest.mark.parametrize("background", ["card", "bg"])
def test_text_on_the_page_backgrounds(text: str, background: str) -> None:
    assert contrast(colour(text), colour(background)) >= 4.5
