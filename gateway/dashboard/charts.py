"""Server-side SVG charts (pygal): no JavaScript, no download, legible on a phone.

pygal renders an SVG string on the server, so a page is complete as it leaves the gateway;
`js=[]` drops pygal's optional tooltip script, which it would otherwise load from a CDN.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date

import pygal
from pygal.style import Style

from gateway.domain.dashboard_metrics import Stat

# pygal appends a legacy `sys.meta_path` finder (for its world-map plugins, unused here) that
# has no `find_spec`, so every later import in the process raises an ImportWarning. Drop it.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

_STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#222222",
    foreground_strong="#111111", foreground_subtle="#dddddd",
    colors=("#1f6feb", "#d4651a", "#2a9d4a", "#9a4bd0"),
    font_family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
    # Big on purpose: the SVG scales down to a phone's width and must stay readable there.
    label_font_size=20, major_label_font_size=20, legend_font_size=22, title_font_size=24,
    value_font_size=18, tooltip_font_size=18,
)


def _p90(s: Stat, unit: float) -> float | None:
    return None if s.p90 is None else round(s.p90 / unit, 1)


def per_day(title: str, series: Sequence[tuple[date, Stat, Stat]], labels: tuple[str, str],
            unit: float = 60.0) -> str:
    """A bar chart of p90 per day (in `unit` seconds), business hours next to after hours.

    Args:
        title: The chart's title.
        series: (day, business Stat, after-hours Stat), oldest first.
        labels: Names of the two series in the UI language.
    """
    chart = pygal.Bar(
        js=[], disable_xml_declaration=True, style=_STYLE, title=title, height=400,
        width=600, explicit_size=False, legend_at_bottom=True, legend_at_bottom_columns=2,
        print_values=False, show_minor_y_labels=False, margin=8, spacing=6,
        x_label_rotation=0, truncate_label=-1, no_data_text="—",
    )
    step = 1 if len(series) <= 10 else 5
    chart.x_labels = [d.strftime("%a %d") if i % step == 0 else "" for i, (d, _, _) in
                      enumerate(series)]
    chart.add(labels[0], [_p90(b, unit) for _, b, _ in series])
    chart.add(labels[1], [_p90(a, unit) for _, _, a in series])
    return str(chart.render(is_unicode=True))


def leads_per_day(title: str, days: Sequence[date], counts: dict[str, list[int]]) -> str:
    """Stacked bars of leads per day by language (a Spanish-lead trend at a glance)."""
    chart = pygal.StackedBar(
        js=[], disable_xml_declaration=True, style=_STYLE, title=title, height=400,
        width=600, explicit_size=False, legend_at_bottom=True, margin=8, spacing=6,
        no_data_text="—",
    )
    step = 1 if len(days) <= 10 else 5
    chart.x_labels = [d.strftime("%a %d") if i % step == 0 else "" for i, d in enumerate(days)]
    for name, values in counts.items():
        chart.add(name, values)
    return str(chart.render(is_unicode=True))
