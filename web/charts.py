"""Bar charts as inline SVG, drawn on the server: no script, no library, nothing
loaded from elsewhere.

Bars run across, each group's label above its bars, so a chart keeps its words
legible on a 390 px phone: the drawing is ``VIEW_WIDTH`` units wide and scales to
the width it is given (``width="100%"`` and a viewBox). Each chart is an
``<svg role="img">`` labelled by its ``<title>`` and ``<desc>`` (the figures in
words), and :meth:`Chart.table` gives the same figures as a table to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

VIEW_WIDTH = 320
"""The drawing's width in its own units; its text is 12 units (``app.css``)."""
VALUE_WIDTH = 56
"""Room kept at the right of the longest bar for its value."""
LABEL_CHARS = 24
"""A longer label is shortened on the drawing (the table gives it whole)."""

BAR = 13
GAP = 3
LINE = 16
GROUP_GAP = 8
COLOURS = ("#1a5fb4", "#1e6b3a", "#8a5a00", "#6b3fa0")
"""Series colours, each dark enough against white for text-sized marks."""
SINGLE = "#b3261e"
NO_VALUE = "—"


def shorten(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


@dataclass(frozen=True)
class Chart:
    """Groups of bars: one bar a series in each group (one series: a plain bar chart)."""

    chart_id: str
    """Unique on the page: the ids of the title and description derive from it."""
    title: str
    label_header: str
    """The table's heading over the group labels."""
    series: tuple[str, ...]
    groups: tuple[tuple[str, tuple[float | None, ...]], ...]
    percent: bool = False
    """Values are shares (0..1), shown as percentages against 100 %."""

    def value_text(self, value: float | None) -> str:
        if value is None:
            return NO_VALUE
        if self.percent:
            return f"{value * 100:.1f}%"
        return str(int(value)) if float(value).is_integer() else f"{value:.2f}"

    def _top(self) -> float:
        if self.percent:
            return 1.0
        values = [v for _, vs in self.groups for v in vs if v is not None]
        return max([*values, 0.0]) or 1.0

    def desc(self) -> str:
        """The figures in words, for the drawing's ``<desc>``."""
        parts = []
        for label, values in self.groups:
            if len(self.series) == 1:
                parts.append(f"{label} {self.value_text(values[0])}")
            else:
                each = ", ".join(
                    f"{name} {self.value_text(v)}"
                    for name, v in zip(self.series, values, strict=True)
                )
                parts.append(f"{label}: {each}")
        return "; ".join(parts)

    def svg(self) -> Markup:
        legend = len(self.series) > 1
        top = self._top()
        span = VIEW_WIDTH - VALUE_WIDTH
        marks: list[str] = []
        y = 4.0
        if legend:
            for n, name in enumerate(self.series):
                marks.append(
                    f'<rect x="0" y="{y:.0f}" width="12" height="12" fill="{COLOURS[n % 4]}"/>'
                    f'<text x="18" y="{y + 10:.0f}">{escape(name)}</text>'
                )
                y += LINE
            y += GROUP_GAP
        for label, values in self.groups:
            marks.append(f'<text x="0" y="{y + 12:.0f}">{escape(shorten(label))}</text>')
            y += LINE + 2
            for n, value in enumerate(values):
                colour = COLOURS[n % 4] if legend else SINGLE
                width = 0.0 if value is None else max(0.0, min(1.0, value / top)) * span
                what = f"{label} · {self.series[n]}: {self.value_text(value)}"
                if width > 0:
                    marks.append(
                        f'<rect x="0" y="{y:.0f}" width="{width:.1f}" height="{BAR}" '
                        f'fill="{colour}"><title>{escape(what)}</title></rect>'
                    )
                marks.append(
                    f'<text x="{width + 4:.1f}" y="{y + BAR - 2:.0f}">'
                    f"{escape(self.value_text(value))}</text>"
                )
                y += BAR + GAP
            y += GROUP_GAP
        height = max(y, 24.0)
        cid = escape(self.chart_id)
        return Markup(
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'aria-labelledby="{cid}-title {cid}-desc" viewBox="0 0 {VIEW_WIDTH} {height:.0f}" '
            f'width="100%" preserveAspectRatio="xMinYMin meet">'
            f'<title id="{cid}-title">{escape(self.title)}</title>'
            f'<desc id="{cid}-desc">{escape(self.desc())}</desc>'
            f"{''.join(marks)}</svg>"
        )

    def table(self, summary: str) -> Markup:
        """The chart's figures as a table, folded under ``summary``."""
        head = "".join(f'<th scope="col">{escape(name)}</th>' for name in self.series)
        rows = []
        for label, values in self.groups:
            cells = "".join(
                f'<td data-label="{escape(name)}">{escape(self.value_text(v))}</td>'
                for name, v in zip(self.series, values, strict=True)
            )
            rows.append(
                f'<tr><th scope="row" data-label="{escape(self.label_header)}">'
                f"{escape(label)}</th>{cells}</tr>"
            )
        return Markup(
            f"<details><summary>{escape(summary)}</summary>"
            f'<table class="cards"><caption>{escape(self.title)}</caption>'
            f'<thead><tr><th scope="col">{escape(self.label_header)}</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></details>"
        )


def bar_chart(
    chart_id: str,
    title: str,
    label_header: str,
    value_name: str,
    rows: Sequence[tuple[str, float | None]],
    *,
    percent: bool = False,
) -> Chart:
    """One bar a row."""
    return Chart(
        chart_id,
        title,
        label_header,
        (value_name,),
        tuple((label, (value,)) for label, value in rows),
        percent,
    )


def grouped_chart(
    chart_id: str,
    title: str,
    label_header: str,
    series: Sequence[str],
    groups: Sequence[tuple[str, Sequence[float | None]]],
    *,
    percent: bool = False,
) -> Chart:
    """A group of bars a row, one bar a series."""
    return Chart(
        chart_id,
        title,
        label_header,
        tuple(series),
        tuple((label, tuple(values)) for label, values in groups),
        percent,
    )
