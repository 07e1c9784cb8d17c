"""Command line of iommu-sim-plot: `sweep` and `hist` subcommands.

main(argv) returns the exit status: 0 when every figure was written, 2 for bad
input (a missing file, column, histogram path or value, an unknown output format),
with the message on stderr naming what is wrong and the closest valid names.
"""

import argparse
import os
import sys
from typing import List, Optional

from .data import (BAND_STATS, LATENCY_STATS, PlotError, build_sweep_plot,
                   check_format, histogram_paths, load_stats, load_sweep_csv,
                   select_histogram)

PROG = "iommu-sim-plot"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="Figures from iommu-sim sweep CSVs and stats JSON files.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{sweep,hist}")

    s = sub.add_parser(
        "sweep", help="a metric against a swept knob, one line per value of another knob",
        description="Plots a metric of a sweep CSV (iommu-sim --sweep-out) against a "
        "swept knob. A latency base name (invalidation_latency_ns) draws its p50 "
        "with a band up to its p99; any numeric column draws as it is.")
    s.add_argument("csv", metavar="CSV", help="sweep CSV written by iommu-sim --sweep-out")
    s.add_argument("--x", required=True, metavar="KNOB", help="column on the x axis")
    s.add_argument("--y", required=True, metavar="METRIC",
                   help="latency base name (e.g. invalidation_latency_ns) or a column")
    s.add_argument("--lines", metavar="KNOB", help="one line per value of this column")
    s.add_argument("--band", choices=BAND_STATS + ("none",),
                   help="upper edge of the shaded band of a latency (default p99)")
    s.add_argument("--center", choices=LATENCY_STATS, default="p50",
                   help="statistic of a latency drawn as the line (default p50)")
    s.add_argument("--where", action="append", default=[], metavar="KEY=VALUE",
                   help="keep only the points with this value (repeatable)")
    _common(s)
    s.add_argument("--logx", action="store_true", help="logarithmic x axis")
    s.add_argument("--xlabel", help="x axis label (default: the knob)")
    s.add_argument("--ylabel", help="y axis label (default: from the metric)")

    h = sub.add_parser(
        "hist", help="latency histogram in the Linux DMAR decade buckets",
        description="Draws the decade buckets (<0.1us ... >=10ms) of latency "
        "histograms of stats JSON files (iommu-sim --stats) as bars; several files "
        "or paths give grouped bars.")
    h.add_argument("stats", nargs="+", metavar="STATS.json",
                   help="stats JSON written by iommu-sim --stats")
    h.add_argument("--histogram", action="append", default=[], metavar="PATH",
                   help="histogram path in the stats tree, e.g. sva.invalidation_latency "
                        "(repeatable)")
    h.add_argument("--list", action="store_true",
                   help="print the histogram paths of the first file and exit")
    _common(h)
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", action="append", default=[], metavar="FIG.png|FIG.svg",
                   help="output file, PNG or SVG by extension (repeatable; default "
                        "next to the input)")
    p.add_argument("--title", help="figure title")
    p.add_argument("--logy", action="store_true", help="logarithmic y axis")


def _default_out(source: str, what: str) -> str:
    stem = os.path.splitext(source)[0]
    return f"{stem}-{what.replace('/', '_')}.png"


def _sweep(args) -> List:
    table = load_sweep_csv(args.csv)
    plot = build_sweep_plot(table, args.x, args.y, lines=args.lines, band=args.band,
                            center=args.center, where=args.where)
    for w in plot.warnings:
        sys.stderr.write(f"{PROG}: warning: {w}\n")
    if args.xlabel:
        plot.x_label = args.xlabel
    if args.ylabel:
        plot.y_label = args.ylabel
    from .figures import sweep_figure  # matplotlib loads only to draw
    fig = sweep_figure(plot, title=args.title, logx=args.logx, logy=args.logy)
    return [(fig, args.out or [_default_out(args.csv, args.y)])]


def _hist(args) -> List:
    trees = [(path, load_stats(path)) for path in args.stats]
    if args.list:
        for path in histogram_paths(trees[0][1]):
            print(path)
        return []
    if not args.histogram:
        raise PlotError("hist: give --histogram PATH (--list prints the paths)")
    hists = [select_histogram(tree, source, path)
             for source, tree in trees for path in args.histogram]
    from .figures import hist_figure
    fig = hist_figure(hists, title=args.title, logy=args.logy)
    return [(fig, args.out or [_default_out(args.stats[0], args.histogram[0])])]


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        for out in args.out:
            check_format(out)
        figures = _sweep(args) if args.command == "sweep" else _hist(args)
        if figures:
            from .figures import save_figure
        for fig, outs in figures:
            for out in outs:
                save_figure(fig, out)
                print(f"wrote {out}")
    except PlotError as e:
        sys.stderr.write(f"{PROG}: error: {e}\n")
        return 2
    return 0
