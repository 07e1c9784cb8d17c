"""Reads what iommu-sim writes and turns it into the numbers a figure shows.

A sweep CSV (`iommu-sim CONFIG --sweep ... --sweep-out FILE.csv`) has one row per
point: the swept keys, the stats summary flattened (`invalidation_latency_ns.p50`,
...), the checker counts and `exit_status`. Columns are found by name, never by
position. A latency is named by its base (`invalidation_latency_ns`): the line is
its p50 (or another statistic) and the band reaches up to its p99 (or p90, max).

Knob values sort numerically when every value of the knob is a number as the
simulator reads one (decimal, 0x hex, a fraction, or an integer with a K/KiB, M/MiB,
G/GiB, T/TiB suffix in powers of 1024); otherwise they keep the order of their first
appearance in the CSV.

A stats JSON (`--stats FILE.json`) is a tree of objects; a latency histogram is an
object with `buckets`: the Linux DMAR decade counts in decade order. Its path is the
dotted chain of keys (`sva.invalidation_latency`, `os.mm1.ptl_hold`).

Points of a sweep that have no value for the metric (a failed run, or a latency with
no sample) are left out with a warning. Everything else that does not fit is a
PlotError naming the file, line and column, with the closest valid names.

Standard library only: the figures are drawn by figures.py.
"""

import csv
import difflib
import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


class PlotError(Exception):
    """Bad input: a missing file, column, path or value (exit status 2)."""


# Statistics a latency base name carries in the sweep CSV.
LATENCY_STATS = ("p50", "p90", "p99", "max", "mean")
BAND_STATS = ("p90", "p99", "max")
FORMATS = (".png", ".svg")  # figure files, chosen by extension

_SIZE_SHIFT = {"": 0, "K": 10, "KiB": 10, "M": 20, "MiB": 20, "G": 30, "GiB": 30,
               "T": 40, "TiB": 40}
_INT_WITH_SUFFIX = re.compile(r"^(0[xX][0-9a-fA-F]+|[0-9]+)(K|KiB|M|MiB|G|GiB|T|TiB)?$")


def parse_knob_number(text: str) -> Optional[float]:
    """The number a knob value stands for, as the simulator parses it; None if not one."""
    s = text.strip()
    m = _INT_WITH_SUFFIX.match(s)
    if m:
        digits, suffix = m.group(1), m.group(2) or ""
        base = 16 if digits[:2] in ("0x", "0X") else 10
        return float(int(digits, base) << _SIZE_SHIFT[suffix])
    if s.startswith("-") and _INT_WITH_SUFFIX.match(s[1:]):
        value = parse_knob_number(s[1:])
        return -value if value is not None else None
    try:
        value = float(s)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def closest_names(name: str, choices: List[str], n: int = 3) -> List[str]:
    """Up to n valid names that look like `name`, best first."""
    found = difflib.get_close_matches(name, choices, n=n, cutoff=0.6)
    for c in choices:  # a name that contains or is contained in the request
        if len(found) >= n:
            break
        if c not in found and (name in c or (len(c) > 2 and c in name)):
            found.append(c)
    return found


def _suggest(name: str, choices: List[str]) -> str:
    close = closest_names(name, choices)
    return "; closest: " + ", ".join(close) if close else ""


@dataclass
class SweepTable:
    """The rows of a sweep CSV, each a dict column -> text, with its line number."""
    path: str
    columns: List[str]
    rows: List[Dict[str, str]]
    lines: List[int]

    def require(self, column: str, what: str) -> None:
        if column not in self.columns:
            raise PlotError(f"{self.path}: {what}: no column '{column}'"
                            + _suggest(column, self.columns))

    def number(self, row: int, column: str) -> Optional[float]:
        """The cell as a number; None when empty (no value); PlotError when not numeric."""
        text = self.rows[row].get(column, "").strip()
        if text == "" or text.lower() in ("nan", "null"):
            return None
        value = parse_knob_number(text)
        if value is None:
            raise PlotError(f"{self.path}:{self.lines[row]}: {column}: "
                            f"'{text}' is not a number")
        return value


def load_sweep_csv(path: str) -> SweepTable:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if not header:
                raise PlotError(f"{path}:1: empty file, expected a sweep CSV header")
            header = [h.strip() for h in header]
            dupes = sorted({h for h in header if header.count(h) > 1})
            if dupes:
                raise PlotError(f"{path}:1: column '{dupes[0]}' appears twice")
            rows, lines = [], []
            for record in reader:
                if not record or all(not c.strip() for c in record):
                    continue
                if len(record) != len(header):
                    raise PlotError(f"{path}:{reader.line_num}: {len(record)} fields, "
                                    f"the header has {len(header)}")
                rows.append(dict(zip(header, record)))
                lines.append(reader.line_num)
    except OSError as e:
        raise PlotError(f"{path}: cannot read: {e.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise PlotError(f"{path}: not a CSV file: {e}") from None
    if not rows:
        raise PlotError(f"{path}: no sweep points (only a header)")
    return SweepTable(path, header, rows, lines)


@dataclass
class KnobOrder:
    """The distinct values of a knob in plotting order."""
    name: str
    values: List[str]                 # as written in the CSV
    numbers: Optional[List[float]]    # parsed values when the knob is numeric

    def key(self, text: str):
        """What identifies a value: its number (64K == 65536) or its text."""
        return parse_knob_number(text) if self.numbers is not None else text.strip()


def knob_order(table: SweepTable, column: str, rows: List[int]) -> KnobOrder:
    texts = [table.rows[r][column].strip() for r in rows]
    for r, t in zip(rows, texts):
        if t == "":
            raise PlotError(f"{table.path}:{table.lines[r]}: {column}: empty knob value")
    parsed = [parse_knob_number(t) for t in texts]
    if all(p is not None for p in parsed):
        first: Dict[float, str] = {}
        for t, p in zip(texts, parsed):
            first.setdefault(p, t)
        numbers = sorted(first)
        return KnobOrder(column, [first[n] for n in numbers], numbers)
    values: List[str] = []
    for t in texts:
        if t not in values:
            values.append(t)
    return KnobOrder(column, values, None)


@dataclass
class Metric:
    """What the y axis shows: one column, or a latency's centre line and band."""
    name: str                      # as given: a column or a latency base name
    center: str                    # column of the line
    band: Optional[str] = None     # column of the band's upper edge
    center_stat: Optional[str] = None
    band_stat: Optional[str] = None


def resolve_metric(table: SweepTable, y: str, center: str = "p50",
                   band: Optional[str] = None) -> Metric:
    """--y as a plain column or a latency base name (`<y>.p50`, `<y>.p99`, ...).

    band: None for the default (p99 for a latency, nothing for a column), "none" for
    no band, else the statistic of the band's upper edge.
    """
    if y in table.columns:
        if band not in (None, "none"):
            bases = _latency_bases(table)
            hint = f" such as {bases[0]}" if bases else ""
            raise PlotError(f"{table.path}: --band {band}: '{y}' is a single column; "
                            f"a band needs a latency base name{hint}")
        return Metric(y, y)
    if f"{y}.p50" not in table.columns:
        choices = table.columns + _latency_bases(table)
        raise PlotError(f"{table.path}: --y: no column or latency '{y}'"
                        + _suggest(y, choices))
    table.require(f"{y}.{center}", f"--center {center}")
    metric = Metric(y, f"{y}.{center}", center_stat=center)
    band_stat = "p99" if band is None else band
    if band_stat != "none":
        table.require(f"{y}.{band_stat}", f"--band {band_stat}")
        metric.band, metric.band_stat = f"{y}.{band_stat}", band_stat
    return metric


def _latency_bases(table: SweepTable) -> List[str]:
    return [c[:-4] for c in table.columns if c.endswith(".p50")]


def axis_label(column: str) -> str:
    """`invalidation_latency_ns.p99` -> `invalidation latency p99 (ns)`; others as named."""
    m = re.match(r"^([A-Za-z0-9_]+)_ns(?:\.(\w+))?$", column)
    if not m:
        return column
    words = m.group(1).replace("_", " ")
    return f"{words} {m.group(2)} (ns)" if m.group(2) else f"{words} (ns)"


@dataclass
class Series:
    """One line: a value of the --lines knob (or None), its points sorted along x."""
    label: Optional[str]
    x: List[float]
    x_text: List[str]
    y: List[float]
    band_high: Optional[List[float]] = None


@dataclass
class SweepPlot:
    """Everything the sweep figure draws, in plain numbers."""
    x: KnobOrder
    lines: Optional[KnobOrder]
    metric: Metric
    x_label: str
    y_label: str
    series: List[Series]
    warnings: List[str] = field(default_factory=list)

    @property
    def categorical_x(self) -> bool:
        return self.x.numbers is None


def _parse_where(table: SweepTable, where: List[str]) -> List[Tuple[str, str]]:
    out = []
    for w in where:
        key, sep, value = w.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise PlotError(f"--where {w}: expected KEY=VALUE")
        table.require(key, f"--where {w}")
        out.append((key, value))
    return out


def _row_matches(table: SweepTable, row: int, key: str, value: str) -> bool:
    cell = table.rows[row][key].strip()
    if cell == value:
        return True
    a, b = parse_knob_number(cell), parse_knob_number(value)
    return a is not None and a == b


def build_sweep_plot(table: SweepTable, x: str, y: str, lines: Optional[str] = None,
                     band: Optional[str] = None, center: str = "p50",
                     where: Optional[List[str]] = None) -> SweepPlot:
    table.require(x, "--x")
    if lines is not None:
        table.require(lines, "--lines")
        if lines == x:
            raise PlotError(f"{table.path}: --lines {lines}: the same knob as --x")
    metric = resolve_metric(table, y, center, band)
    rows = list(range(len(table.rows)))
    for key, value in _parse_where(table, where or []):
        rows = [r for r in rows if _row_matches(table, r, key, value)]
        if not rows:
            raise PlotError(f"{table.path}: --where {key}={value}: no point matches")
    x_order = knob_order(table, x, rows)
    line_order = knob_order(table, lines, rows) if lines else None
    _check_unique(table, rows, x_order, line_order)

    warnings: List[str] = []
    groups = line_order.values if line_order else [None]
    series = []
    for value in groups:
        members = [r for r in rows if line_order is None
                   or line_order.key(table.rows[r][lines]) == line_order.key(value)]
        points = []
        for r in members:
            point = _point(table, r, metric, warnings, x, lines)
            if point is not None:
                x_text = table.rows[r][x].strip()
                xpos = (x_order.key(x_text) if x_order.numbers is not None
                        else float(x_order.values.index(x_text)))
                points.append((xpos, x_text) + point)
        points.sort(key=lambda p: p[0])
        s = Series(value, [p[0] for p in points], [p[1] for p in points],
                   [p[2] for p in points])
        if metric.band:
            s.band_high = [p[3] for p in points]
        series.append(s)
    if all(not s.x for s in series):
        raise PlotError(f"{table.path}: --y {y}: no point has a value")
    y_label = axis_label(metric.name if metric.band else metric.center)
    return SweepPlot(x_order, line_order, metric, x, y_label, series, warnings)


def _point(table: SweepTable, r: int, metric: Metric, warnings: List[str], x: str,
           lines: Optional[str]):
    where = f"{table.path}:{table.lines[r]}: point {x}={table.rows[r][x].strip()}"
    if lines:
        where += f" {lines}={table.rows[r][lines].strip()}"
    status = table.rows[r].get("exit_status", "").strip()
    count_col = f"{metric.name}.count"
    if metric.center_stat and count_col in table.columns and table.number(r, count_col) == 0:
        warnings.append(f"{where}: no {metric.name} sample, left out")
        return None
    yv = table.number(r, metric.center)
    hv = table.number(r, metric.band) if metric.band else None
    if yv is None or (metric.band and hv is None):
        missing = metric.center if yv is None else metric.band
        why = f" (exit_status {status})" if status not in ("", "0") else ""
        warnings.append(f"{where}: no {missing}{why}, left out")
        return None
    return (yv, hv)


def _check_unique(table: SweepTable, rows: List[int], x_order: KnobOrder,
                  line_order: Optional[KnobOrder]) -> None:
    seen: Dict[tuple, int] = {}
    for r in rows:
        key = (x_order.key(table.rows[r][x_order.name]),
               line_order.key(table.rows[r][line_order.name]) if line_order else None)
        if key not in seen:
            seen[key] = r
            continue
        first = seen[key]
        differ = [c for c in table.columns
                  if table.rows[first][c] != table.rows[r][c]][:3]
        fixed = f"{x_order.name}={table.rows[r][x_order.name].strip()}"
        if line_order:
            fixed += f" {line_order.name}={table.rows[r][line_order.name].strip()}"
        where = f"{table.path}:{table.lines[r]}: same point as line {table.lines[first]}"
        if not differ:
            raise PlotError(f"{where} ({fixed}): the point appears twice")
        raise PlotError(
            f"{where} ({fixed}) but different {', '.join(differ)}: plot that knob with "
            f"--lines or pick one value with --where KEY=VALUE")


def check_format(path: str) -> str:
    """The figure format of an output file name (.png or .svg); PlotError otherwise."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise PlotError(f"--out {path}: unknown format '{ext or '(none)'}', "
                        f"expected {' or '.join(FORMATS)}")
    return ext


# ------------------------------------------------------------------ stats JSON

def load_stats(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            tree = json.load(f)
    except OSError as e:
        raise PlotError(f"{path}: cannot read: {e.strerror}") from None
    except (UnicodeDecodeError, ValueError) as e:
        line = getattr(e, "lineno", None)
        raise PlotError(f"{path}{':' + str(line) if line else ''}: not a stats JSON: {e}") \
            from None
    if not isinstance(tree, dict):
        raise PlotError(f"{path}: not a stats JSON (the top level is not an object)")
    return tree


def histogram_paths(tree: dict, prefix: str = "") -> Dict[str, dict]:
    """Every histogram of the tree (an object with `buckets`), by dotted path, in order."""
    found: Dict[str, dict] = {}
    for key, value in tree.items():
        if not isinstance(value, dict):
            continue
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value.get("buckets"), dict):
            found[path] = value
        else:
            found.update(histogram_paths(value, path))
    return found


def _node_at(tree: dict, path: str):
    node = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


@dataclass
class Histogram:
    """One histogram's decade buckets, as the stats JSON stores them."""
    source: str
    path: str
    labels: List[str]
    counts: List[int]
    count: int
    unit: str = ""
    desc: str = ""
    p50: Optional[float] = None
    p99: Optional[float] = None


def select_histogram(tree: dict, source: str, path: str) -> Histogram:
    found = histogram_paths(tree)
    if path not in found:
        node = _node_at(tree, path)
        listing = "\n  ".join(found) if found else "(none)"
        if node is not None:
            why = f"'{path}' is not a histogram (no decade buckets)"
        else:
            why = f"no histogram '{path}'" + _suggest(path, list(found))
        raise PlotError(f"{source}: --histogram: {why}\navailable histograms:\n  {listing}")
    node = found[path]
    labels = list(node["buckets"].keys())
    counts = []
    for label in labels:
        value = node["buckets"][label]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise PlotError(f"{source}: {path}.buckets.{label}: '{value}' is not a count")
        counts.append(int(value))

    def num(key):
        v = node.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    count = node.get("count", sum(counts))
    return Histogram(source, path, labels, counts, int(count), str(node.get("unit", "")),
                     str(node.get("desc", "")), num("p50"), num("p99"))
