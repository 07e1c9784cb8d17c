"""Draws the figures of iommu-sim-plot with matplotlib (Agg, no display needed).

sweep_figure: a metric against a swept knob, one line per value of another knob,
each line its p50 (or another statistic) with a shaded band up to its p99 (or p90,
max). A numeric knob is placed at its value, with the values as the simulator's
sweep wrote them (64K, 1M) as ticks; a string knob takes one slot per value in CSV
order.

hist_figure: the Linux DMAR decade buckets of one or more latency histograms as
bars (grouped when there are several), each bar labelled with its count.

Both return a matplotlib Figure that is not registered with pyplot (no global
state), so a caller or a test can inspect its axes, lines and collections.
save_figure writes PNG or SVG; the SVG keeps its text as text (editable in a slide)
and both files are byte-identical from one run to the next.
"""

import os
from typing import List, Optional

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402  (after selecting the backend)
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullLocator  # noqa: E402

from .data import Histogram, PlotError, SweepPlot, check_format  # noqa: E402

FIGSIZE_IN = (6.4, 3.9)
PNG_DPI = 150
BAND_ALPHA = 0.18
MAX_LABELLED_TICKS = 12  # more distinct knob values than this get plain numeric ticks
_PLAIN = FuncFormatter(lambda v, _pos: f"{v:g}")
# Minor ticks of a log axis: label 2x and 5x the decade only.
_PLAIN_2_5 = FuncFormatter(lambda v, _pos: f"{v:g}" if f"{v:e}"[0] in "25" else "")
# Lines that coincide (two policies with the same p50) stay apart by marker and dash.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")


def sweep_figure(plot: SweepPlot, title: Optional[str] = None, logx: bool = False,
                 logy: bool = False) -> Figure:
    fig = Figure(figsize=FIGSIZE_IN, layout="constrained")
    ax = fig.add_subplot()
    if logx:
        if plot.categorical_x:
            raise PlotError(f"--logx: {plot.x.name} is not numeric")
        if any(v <= 0 for v in plot.x.numbers):
            raise PlotError(f"--logx: {plot.x.name} has a value <= 0")
        ax.set_xscale("log")
    if logy:
        lows = [v for s in plot.series for v in s.y]
        if any(v <= 0 for v in lows):
            raise PlotError(f"--logy: {plot.metric.center} has a value <= 0")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_PLAIN)  # 2000, not 2x10^3
        ax.yaxis.set_minor_formatter(_PLAIN_2_5)

    handles = []
    for i, s in enumerate(plot.series):
        color = f"C{i % 10}"
        label = s.label if s.label is not None else (plot.metric.center_stat
                                                     or plot.metric.name)
        (line,) = ax.plot(s.x, s.y, color=color, label=label,
                          marker=MARKERS[i % len(MARKERS)],
                          linestyle=LINESTYLES[i % len(LINESTYLES)])
        handles.append(line)
        if s.band_high is not None:
            ax.fill_between(s.x, s.y, s.band_high, color=color, alpha=BAND_ALPHA,
                            linewidth=0)
    if plot.metric.band:
        handles.append(Patch(facecolor="0.5", alpha=BAND_ALPHA * 2, linewidth=0,
                             label=f"line {plot.metric.center_stat}, "
                                   f"band to {plot.metric.band_stat}"))
    if plot.lines is not None or plot.metric.band:
        ax.legend(handles=handles, title=plot.lines.name if plot.lines else None,
                  fontsize="small", title_fontsize="small")

    _knob_ticks(ax, plot, logx)
    ax.set_xlabel(plot.x_label)
    ax.set_ylabel(plot.y_label)
    if not logy and all(v >= 0 for s in plot.series for v in s.y):
        ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if title is None:
        title = f"{plot.metric.name} vs {plot.x.name}"
        if plot.lines is not None:
            title += f", per {plot.lines.name}"
    ax.set_title(title)
    return fig


def _knob_ticks(ax, plot: SweepPlot, logx: bool) -> None:
    if plot.categorical_x:
        ax.set_xticks(range(len(plot.x.values)), labels=plot.x.values)
        ax.set_xlim(-0.5, len(plot.x.values) - 0.5)
    elif len(plot.x.values) <= MAX_LABELLED_TICKS:
        ax.set_xticks(plot.x.numbers, labels=plot.x.values)
        if logx:
            ax.xaxis.set_minor_locator(NullLocator())


def hist_figure(hists: List[Histogram], title: Optional[str] = None,
                logy: bool = False) -> Figure:
    if not hists:
        raise PlotError("--histogram: no histogram selected")
    labels = hists[0].labels
    for h in hists[1:]:
        if h.labels != labels:
            raise PlotError(f"{h.source}: {h.path}: buckets {h.labels} differ from "
                            f"{hists[0].source}: {hists[0].path}: {labels}")
    fig = Figure(figsize=FIGSIZE_IN, layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(hists)
    sources = {h.source for h in hists}
    paths = {h.path for h in hists}
    for i, h in enumerate(hists):
        offset = (i - (len(hists) - 1) / 2) * width
        xs = [k + offset for k in range(len(labels))]
        bars = ax.bar(xs, h.counts, width=width, color=f"C{i % 10}",
                      label=_series_label(h, len(sources) > 1, len(paths) > 1))
        ax.bar_label(bars, labels=[str(c) if c else "" for c in h.counts],
                     fontsize="x-small", padding=1)
    ax.set_xticks(range(len(labels)), labels=labels, fontsize="small")
    ax.set_xlabel("latency (Linux DMAR decade buckets)")
    ax.set_ylabel("samples")
    if logy:
        ax.set_yscale("log")
        ax.set_ylim(bottom=0.5)
    else:
        ax.margins(y=0.1)
    if len(hists) > 1:
        ax.legend(fontsize="small")
    ax.grid(True, axis="y", alpha=0.3)
    if title is None:
        title = _hist_title(hists[0]) if len(hists) == 1 else (
            f"{hists[0].path}" if len(paths) == 1 else "latency histograms")
    ax.set_title(title)
    return fig


def _series_label(h: Histogram, by_source: bool, by_path: bool) -> str:
    stem = os.path.splitext(os.path.basename(h.source))[0]
    if by_source and by_path:
        return f"{stem}: {h.path}"
    return stem if by_source else h.path


def _hist_title(h: Histogram) -> str:
    parts = [f"{h.count} samples"]
    unit = f" {h.unit}" if h.unit else ""
    if h.count and h.p50 is not None:
        parts.append(f"p50 {h.p50:g}{unit}")
    if h.count and h.p99 is not None:
        parts.append(f"p99 {h.p99:g}{unit}")
    return f"{h.path}: {', '.join(parts)}"


def save_figure(fig: Figure, path: str) -> None:
    """Writes PNG or SVG (by the file's extension), the same bytes on every run."""
    ext = check_format(path)
    metadata = {"Date": None} if ext == ".svg" else {"Software": None}
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "iommu-sim-plot"}):
        try:
            fig.savefig(path, dpi=PNG_DPI, metadata=metadata)
        except OSError as e:
            raise PlotError(f"--out {path}: cannot write: {e.strerror}") from None
