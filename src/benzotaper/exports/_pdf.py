"""Shared PDF machinery: an embedded Unicode font (for ½, ×, →), a footer, and boxed notices.

fpdf2's built-in fonts are Latin-1 only, so a DejaVu Sans TrueType font is embedded. It is looked
for in ``BENZOTAPER_FONT_DIR``, then the usual Debian/Fedora/Arch font folders, then the copy
matplotlib ships (a dependency anyway), so a missing system package is rarely fatal.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from benzotaper.errors import ExportError

FONT = "DejaVu"
_REGULAR = "DejaVuSans.ttf"
_BOLD = "DejaVuSans-Bold.ttf"
_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",  # Debian, Ubuntu (fonts-dejavu-core)
    "/usr/share/fonts/dejavu-sans-fonts",  # Fedora
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",  # Arch
    "/usr/local/share/fonts",
    "/Library/Fonts",
)

# Colours (RGB): calm, print-friendly, readable in greyscale.
INK = (20, 20, 20)
MUTED = (90, 90, 90)
SAFETY_FILL = (255, 244, 204)
EMERGENCY_FILL = (253, 226, 226)
EMERGENCY_EDGE = (180, 20, 20)
CUT_FILL = (255, 214, 153)
CHANGE_FILL = (221, 235, 247)
HEAD_FILL = (235, 235, 235)


def _candidates() -> list[Path]:
    dirs: list[Path] = []
    if env := os.environ.get("BENZOTAPER_FONT_DIR"):
        dirs.append(Path(env))
    dirs += [Path(d) for d in _FONT_DIRS]
    try:
        import matplotlib

        dirs.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        pass
    return dirs


@lru_cache(maxsize=1)
def font_files() -> tuple[Path, Path]:
    """(regular, bold) DejaVu Sans files, or an ExportError that says how to install them."""
    for folder in _candidates():
        regular, bold = folder / _REGULAR, folder / _BOLD
        if regular.is_file() and bold.is_file():
            return regular, bold
    searched = ", ".join(str(d) for d in _candidates())
    raise ExportError(
        "The PDF needs the DejaVu Sans font and it was not found (looked in "
        f"{searched}). Install it (Debian/Ubuntu: apt-get install fonts-dejavu-core) or set "
        "BENZOTAPER_FONT_DIR to a folder holding DejaVuSans.ttf and DejaVuSans-Bold.ttf."
    )


class Document(FPDF):
    """A4 document with the embedded font and a footer that repeats the prescriber message."""

    def __init__(self, title: str, footer_text: str, created: dt.datetime | None = None) -> None:
        super().__init__(format="A4")
        regular, bold = font_files()
        self.add_font(FONT, "", str(regular))
        self.add_font(FONT, "B", str(bold))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=20)
        self.set_title(title)
        self.set_creator("benzotaper")
        self.set_lang("en")
        if created is not None:
            self.set_creation_date(created)
        self.footer_text = footer_text
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 4, self.footer_text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 4, f"Page {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(*INK)

    # ------------------------------------------------------------------ building blocks

    def heading(self, text: str, size: float = 20) -> None:
        if self.page_no() > 0 and self.will_page_break(size + 20):
            self.add_page()  # never leave a heading alone at the foot of a page
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        self.ln(2)

    def para(self, text: str, size: float = 12, bold: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.multi_cell(
            0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, markdown=True, align="L"
        )
        self.ln(1)

    def box(
        self,
        title: str,
        lines: list[str],
        fill: tuple[int, int, int],
        size: float = 12,
        edge: tuple[int, int, int] | None = None,
    ) -> None:
        """A filled notice: bold title then lines; kept on one page when it fits."""
        self.set_fill_color(*fill)
        self.set_draw_color(*(edge or fill))
        self.set_line_width(0.6 if edge else 0.2)
        line_h = size * 0.5
        if self.will_page_break(line_h * (len(lines) + 3)):
            self.add_page()
        self.set_font(FONT, "B", size + 1)
        self.multi_cell(
            0,
            line_h + 1,
            title,
            border="LTR",
            fill=True,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
            align="L",
        )
        self.set_font(FONT, "", size)
        for i, line in enumerate(lines):
            border = "LR" + ("B" if i == len(lines) - 1 else "")
            self.multi_cell(
                0,
                line_h,
                line,
                border=border,
                fill=True,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
                markdown=True,
                padding=(0, 2),
                align="L",
            )
        self.set_line_width(0.2)
        self.set_draw_color(0, 0, 0)
        self.ln(3)

    def render(self) -> bytes:
        return bytes(self.output())


def long_date(day: dt.date) -> str:
    """'Tue 15 Dec 2026': unambiguous in every country (never 12/01 vs 01/12)."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def short_date(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b}"
