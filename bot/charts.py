"""Charts with matplotlib: the digest's PNG and the report's inline SVGs.

No pyplot and no display: each chart is a ``Figure`` of its own on the Agg canvas (the digest's PNG
reuses one figure per thread), so nothing global is touched and charts can be drawn from any thread. Output is deterministic (no dates or
software versions in the metadata, a fixed SVG hash salt), so the same figures give the same bytes.
matplotlib is imported on first use: importing this module does nothing.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

from learning.digest import WeekPoint

BAR = "#3f9b5a"  # sprout green
LINE = "#1d3557"
GRID = "#e3e6ea"
RC = {
    "font.size": 9,
    "font.family": "DejaVu Sans",
    "svg.hashsalt": "sprout",
    "svg.fonttype": "none",  # text stays text in the SVG: smaller, selectable, readable by screen readers
    "axes.spines.top": False,
    "axes.edgecolor": "#8a9099",
}


def _weekly_figure(points: Sequence[WeekPoint], *, title: str, size: tuple[float, float]):
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=100)
    # Fixed margins: a layout engine would measure every label and triple the drawing time.
    figure.subplots_adjust(left=0.1, right=0.9, top=0.78, bottom=0.11)
    bars = figure.add_subplot()
    labels = [p.start_local.strftime("%d %b") for p in points]
    x = list(range(len(points)))
    bars.bar(x, [p.answered for p in points], color=BAR, width=0.6, label="lessons answered", zorder=2)
    bars.set_ylabel("lessons answered")
    bars.set_xticks(x, labels)
    bars.tick_params(axis="x", labelsize=8)
    bars.grid(axis="y", color=GRID, zorder=0)
    bars.set_ylim(0, max([p.answered for p in points] + [1]) * 1.15)
    bars.yaxis.get_major_locator().set_params(integer=True)
    line = bars.twinx()
    accuracy = [None if p.accuracy is None else p.accuracy * 100 for p in points]
    line.plot(x, [float("nan") if a is None else a for a in accuracy], color=LINE, marker="o", markersize=4,
              linewidth=2, label="accuracy", zorder=3)
    line.set_ylim(0, 105)
    line.set_ylabel("accuracy %")
    line.spines["top"].set_visible(False)
    figure.suptitle(title, x=0.1, y=0.97, ha="left", va="top", fontsize=10, fontweight="bold")
    handles = bars.get_legend_handles_labels()[0] + line.get_legend_handles_labels()[0]
    bars.legend(handles, ["lessons answered", "accuracy %"], loc="lower right", bbox_to_anchor=(1.0, 1.0),
                fontsize=8, frameon=False, ncols=2, borderaxespad=0.2)
    return figure


class _WeeklyPNG:
    """One digest chart figure, drawn again for each team's figures.

    Building the figure (axes, ticks, legend, title) is a third of the time of a fresh chart, and a
    canvas that is kept also keeps its text measurements, so drawing a batch of digests' charts on
    one figure takes about 40 ms a chart instead of about 95. Only what changes between teams is
    set: the bars' heights, the line, the left axis' range and the week labels.
    """

    def __init__(self, points: Sequence[WeekPoint], title: str) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.weeks, self.title = len(points), title
        self.figure = _weekly_figure(points, title=title, size=(6.0, 2.8))
        FigureCanvasAgg(self.figure)
        self.bars_axes, self.line_axes = self.figure.axes
        self.bars = self.bars_axes.containers[0]
        (self.line,) = self.line_axes.lines

    def draw(self, points: Sequence[WeekPoint]) -> bytes:
        for bar, point in zip(self.bars, points, strict=True):
            bar.set_height(point.answered)
        self.line.set_ydata([float("nan") if p.accuracy is None else p.accuracy * 100 for p in points])
        self.bars_axes.set_ylim(0, max([p.answered for p in points] + [1]) * 1.15)
        self.bars_axes.set_xticks(range(len(points)), [p.start_local.strftime("%d %b") for p in points])
        out = io.BytesIO()
        self.figure.savefig(out, format="png", metadata={"Software": None})
        return out.getvalue()


_drawers = threading.local()  # a figure per thread: matplotlib figures are not shared between threads


def weekly_chart_png(points: Sequence[WeekPoint], *, title: str) -> bytes:
    """Answered lessons per week as bars, accuracy as a line: a small PNG (about 600×280)."""
    import matplotlib

    with matplotlib.rc_context(RC):
        drawer = getattr(_drawers, "weekly", None)
        if drawer is None or (drawer.weeks, drawer.title) != (len(points), title):
            drawer = _drawers.weekly = _WeeklyPNG(points, title)
        return drawer.draw(points)


def weekly_chart_svg(points: Sequence[WeekPoint], *, title: str) -> str:
    """The same chart as inline SVG, for the HTML report."""
    import matplotlib

    with matplotlib.rc_context(RC):
        figure = _weekly_figure(points, title=title, size=(8.0, 3.0))
        return _svg(figure)


def bar_chart_svg(labels: Sequence[str], values: Sequence[float | None], *, title: str, percent: bool = True) -> str:
    """Horizontal bars (a share per pack or team), as inline SVG."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        height = 0.9 + 0.32 * max(len(labels), 1)
        figure = Figure(figsize=(8.0, height), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        shown = [0.0 if v is None else (v * 100 if percent else v) for v in values]
        y = list(range(len(labels)))
        axes.barh(y, shown, color=BAR, height=0.6, zorder=2)
        axes.set_yticks(y, [label[:40] for label in labels])
        axes.invert_yaxis()
        axes.grid(axis="x", color=GRID, zorder=0)
        if percent:
            axes.set_xlim(0, 100)
            axes.set_xlabel("%")
        for i, (value, raw) in enumerate(zip(shown, values, strict=True)):
            text = "—" if raw is None else (f"{value:.0f}%" if percent else f"{value:g}")
            axes.text(value + 1, i, text, va="center", fontsize=8)
        axes.set_title(title, loc="left", fontsize=10, fontweight="bold")
        return _svg(figure)


def _svg(figure) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    # The XML prolog and DOCTYPE are for standalone files; inline SVG in HTML starts at <svg.
    return text[text.index("<svg"):]
