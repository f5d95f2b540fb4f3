"""Result charts as PNG images (matplotlib, no display needed)."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

BAR_COLOUR = "#1f6f8b"  # readable on white, also in greyscale
HIGHLIGHT = "#e07a1f"


def _literal(text: str) -> str:
    """matplotlib reads $…$ as math; people's text is shown as typed."""
    return text.replace("$", r"\$")


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    value_labels: Sequence[str] | None = None,
    highlight: Sequence[bool] | None = None,
    legend: tuple[str, str] | None = None,
) -> bytes:
    """A horizontal bar chart, first label on top; `value_labels` are written at the bars.

    `legend` names the highlighted and the other bars. The chart in words (title, then a line
    per bar) is kept in the PNG's Description, for screen readers and tests.
    """
    n = len(labels)
    fig = Figure(figsize=(7, 1.2 + 0.55 * max(n, 1)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positions = list(range(n))[::-1]
    colours = [HIGHLIGHT if highlight and highlight[i] else BAR_COLOUR for i in range(n)]
    ax.barh(positions, values, color=colours)
    ax.set_yticks(
        positions, [_literal(textwrap.shorten(label, 40, placeholder="…")) for label in labels]
    )
    ax.set_title(_literal(textwrap.shorten(title, 70, placeholder="…")), loc="left")
    top = max(values, default=0) or 1
    ax.set_xlim(0, top * 1.25)
    for pos, value, text in zip(positions, values, value_labels or [], strict=False):
        ax.text(value + top * 0.01, pos, _literal(text), va="center")
    if legend is not None:
        handles = [
            Patch(color=HIGHLIGHT, label=legend[0]),
            Patch(color=BAR_COLOUR, label=legend[1]),
        ]
        ax.legend(handles=handles, loc="lower right", frameon=False)
    ax.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    words = [title]
    for i, label in enumerate(labels):
        line = label + (f": {value_labels[i]}" if value_labels else "")
        if legend is not None and highlight is not None:
            line += ", " + legend[0 if highlight[i] else 1]
        words.append(line)
    fig.savefig(buf, format="png", metadata={"Software": None, "Description": "\n".join(words)})
    return buf.getvalue()
