"""Result charts as PNG images (matplotlib, no display needed)."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence

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


GROUP_COLOURS = ("#1f6f8b", "#e07a1f", "#5b8c3a", "#8e4585", "#b8860b")  # Okabe-Ito-like
UNPLACED = "#b0b0b0"


def opinion_map(
    title: str,
    points: Sequence[tuple[float, float, int | None]],
    group_names: Sequence[str],
    unplaced_name: str,
    count: Callable[[int], str] = str,
) -> bytes:
    """Participants as dots, coloured by their group (None: not placed, grey).

    The legend names each group (and how many dots it has); the chart in words is kept in
    the PNG's Description, as for :func:`bar_chart`."""
    fig = Figure(figsize=(6, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    counts: list[int] = []
    for g, name in [(None, unplaced_name), *enumerate(group_names)]:
        xs = [x for x, _y, gg in points if gg == g]
        ys = [y for _x, y, gg in points if gg == g]
        if g is not None:
            counts.append(len(xs))
        if not xs:
            continue
        colour = UNPLACED if g is None else GROUP_COLOURS[g % len(GROUP_COLOURS)]
        ax.scatter(xs, ys, s=40, color=colour, alpha=0.8, label=f"{_literal(name)} ({count(len(xs))})",
                   edgecolors="white", linewidths=0.5)  # fmt: skip
    ax.set_title(_literal(textwrap.shorten(title, 60, placeholder="…")), loc="left")
    ax.set_xticks([])
    ax.set_yticks([])
    if points:
        ax.legend(loc="best", frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    words = [title, *(f"{name}: {n}" for name, n in zip(group_names, counts, strict=True))]
    fig.savefig(buf, format="png", metadata={"Software": None, "Description": "\n".join(words)})
    return buf.getvalue()
