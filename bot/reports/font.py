"""The CJK font for the charts: Noto Sans SC, shipped in a PyPI wheel (pylopdf-fonts-zh-cn, SIL OFL) so a
fresh machine renders Chinese labels after `pip install` alone: no system font, no apt package."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pylopdf_fonts_zh_cn
from matplotlib import font_manager


@cache
def cjk_font() -> tuple[Path, str]:
    """(the font file, its family name), registered with matplotlib once."""
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    font_manager.fontManager.addfont(str(path))
    return path, font_manager.FontProperties(fname=str(path)).get_name()


def missing_glyphs(text: str) -> set[str]:
    """The characters of `text` the font has no glyph for (whitespace aside)."""
    cmap = _cmap()
    return {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}


@cache
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont
    with TTFont(str(cjk_font()[0]), lazy=True) as font:
        return frozenset(font.getBestCmap())
