#!/usr/bin/env python3
"""Tests of scripts/iommu-sim-plot on outputs of the real iommu-sim.

The fixture runs small sweeps of configs/invalidation_storm.cfg (iommu.arch x
device.count, the device counts written out of order) and configs/calib_dma_latency.cfg
(window sizes written with K/M suffixes), and one --stats run. The tests build the
matplotlib figures and compare what they show (axis labels, tick labels, number of
lines, the plotted x/y values, the band's edges, the bar heights) with the numbers in
the CSV and JSON as read here with the standard library; then run the command for
PNG/SVG output and for every kind of bad input (exit status 2 with the valid names).

Environment: IOSIM_SIM_BINARY (the iommu-sim binary) and IOSIM_CONFIG_DIR
(configs/); both default to the source tree's build/ and configs/.
"""

import contextlib
import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts")
PLOT = os.path.join(SCRIPTS, "iommu-sim-plot")
sys.path.insert(0, SCRIPTS)

from iosim_plot.interpreter import ensure_matplotlib  # noqa: E402

ensure_matplotlib(os.path.realpath(__file__))

from iosim_plot import cli, data, figures  # noqa: E402

SIM = os.environ.get("IOSIM_SIM_BINARY", os.path.join(ROOT, "build", "iommu-sim"))
CONFIGS = os.environ.get("IOSIM_CONFIG_DIR", os.path.join(ROOT, "configs"))

TMP = None
STORM_CSV = WINDOW_CSV = STATS = None
ARCHS = ["vtd", "smmuv3"]
DEVICES = [1, 2, 4]


def run_sim(*args):
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    r = subprocess.run([SIM, *args], capture_output=True, text=True, env=env, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"iommu-sim {' '.join(args)} exited {r.returncode}: {r.stderr}")


def setUpModule():
    global TMP, STORM_CSV, WINDOW_CSV, STATS
    TMP = tempfile.mkdtemp(prefix="iommu-sim-plot-test-")
    STORM_CSV = os.path.join(TMP, "storm.csv")
    WINDOW_CSV = os.path.join(TMP, "window.csv")
    STATS = os.path.join(TMP, "storm.json")
    storm = os.path.join(CONFIGS, "invalidation_storm.cfg")
    run_sim(storm, "--sweep", "iommu.arch=vtd,smmuv3", "--sweep", "device.count=4,1,2",
            "--jobs", "2", "--sweep-out", STORM_CSV)
    run_sim(os.path.join(CONFIGS, "calib_dma_latency.cfg"),
            "--sweep", "workload.window_bytes=1M,64K,256K", "--jobs", "2",
            "--sweep-out", WINDOW_CSV)
    run_sim(storm, "--set", "iommu.arch=smmuv3", "--stats", STATS)


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def csv_value(rows, column, **knobs):
    """The number in `column` of the one row whose knobs have the given values."""
    match = [r for r in rows
             if all(r[k.replace("__", ".")] == str(v) for k, v in knobs.items())]
    assert len(match) == 1, (knobs, len(match))
    return float(match[0][column])


def storm_plot(**kw):
    table = data.load_sweep_csv(kw.pop("path", STORM_CSV))
    return data.build_sweep_plot(table, **kw)


def band_edges(collection):
    """{x: (low, high)} of a fill_between band, from its polygon's vertices."""
    edges = {}
    for x, y in collection.get_paths()[0].vertices:
        lo, hi = edges.get(x, (y, y))
        edges[x] = (min(lo, y), max(hi, y))
    return edges


def write_csv(path, columns, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)


class KnobValueTest(unittest.TestCase):
    def test_numbers_as_the_simulator_reads_them(self):
        self.assertEqual(data.parse_knob_number("64K"), 65536)
        self.assertEqual(data.parse_knob_number("1M"), 1 << 20)
        self.assertEqual(data.parse_knob_number("2GiB"), 2 << 30)
        self.assertEqual(data.parse_knob_number("0x10"), 16)
        self.assertEqual(data.parse_knob_number("0.5"), 0.5)
        self.assertEqual(data.parse_knob_number("12"), 12)
        self.assertIsNone(data.parse_knob_number("intel"))
        self.assertIsNone(data.parse_knob_number("1k"))
        self.assertIsNone(data.parse_knob_number("true"))


class SweepFigureTest(unittest.TestCase):
    def test_one_line_per_arch_with_the_csv_p50(self):
        rows = read_rows(STORM_CSV)
        plot = storm_plot(x="device.count", y="invalidation_latency_ns", lines="iommu.arch")
        ax = figures.sweep_figure(plot).axes[0]
        self.assertEqual(ax.get_xlabel(), "device.count")
        self.assertEqual(ax.get_ylabel(), "invalidation latency (ns)")
        lines = ax.get_lines()
        self.assertEqual([ln.get_label() for ln in lines], ARCHS)  # CSV order
        for ln, arch in zip(lines, ARCHS):
            self.assertEqual(list(ln.get_xdata()), DEVICES)  # sorted numerically
            want = [csv_value(rows, "invalidation_latency_ns.p50", iommu__arch=arch,
                              device__count=d) for d in DEVICES]
            self.assertEqual(list(ln.get_ydata()), want)
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()], ["1", "2", "4"])
        legend = ax.get_legend()
        self.assertEqual(legend.get_title().get_text(), "iommu.arch")
        self.assertEqual([t.get_text() for t in legend.get_texts()],
                         ARCHS + ["line p50, band to p99"])

    def test_band_spans_p50_to_p99(self):
        rows = read_rows(STORM_CSV)
        plot = storm_plot(x="device.count", y="invalidation_latency_ns", lines="iommu.arch")
        ax = figures.sweep_figure(plot).axes[0]
        self.assertEqual(len(ax.collections), len(ARCHS))
        for band, arch in zip(ax.collections, ARCHS):
            edges = band_edges(band)
            self.assertEqual(sorted(edges), DEVICES)
            for d in DEVICES:
                want = tuple(csv_value(rows, f"invalidation_latency_ns.{s}",
                                       iommu__arch=arch, device__count=d)
                             for s in ("p50", "p99"))
                self.assertEqual(edges[d], want)
        # SMMUv3's tail differs from its median in this storm: a real band.
        smmu = band_edges(ax.collections[1])
        self.assertTrue(any(hi > lo for lo, hi in smmu.values()))

    def test_band_to_max_and_no_band(self):
        rows = read_rows(STORM_CSV)
        ax = figures.sweep_figure(storm_plot(x="device.count", y="invalidation_latency_ns",
                                             lines="iommu.arch", band="max")).axes[0]
        edges = band_edges(ax.collections[0])
        self.assertEqual(edges[4][1], csv_value(rows, "invalidation_latency_ns.max",
                                                iommu__arch="vtd", device__count=4))
        ax = figures.sweep_figure(storm_plot(x="device.count", y="invalidation_latency_ns",
                                             lines="iommu.arch", band="none")).axes[0]
        self.assertEqual(len(ax.collections), 0)
        self.assertEqual(ax.get_ylabel(), "invalidation latency p50 (ns)")

    def test_plain_column(self):
        rows = read_rows(STORM_CSV)
        ax = figures.sweep_figure(storm_plot(x="device.count", y="dma_gb_per_s",
                                             where=["iommu.arch=smmuv3"])).axes[0]
        self.assertEqual(ax.get_ylabel(), "dma_gb_per_s")
        (line,) = ax.get_lines()
        self.assertEqual(list(line.get_ydata()),
                         [csv_value(rows, "dma_gb_per_s", iommu__arch="smmuv3", device__count=d)
                          for d in DEVICES])
        self.assertEqual(len(ax.collections), 0)

    def test_string_knob_on_x_keeps_csv_order(self):
        rows = read_rows(STORM_CSV)
        plot = storm_plot(x="iommu.arch", y="invalidation_latency_ns", lines="device.count")
        ax = figures.sweep_figure(plot).axes[0]
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()], ARCHS)
        self.assertEqual([ln.get_label() for ln in ax.get_lines()], ["1", "2", "4"])
        arm_at_2 = ax.get_lines()[1].get_ydata()[1]
        self.assertEqual(arm_at_2, csv_value(rows, "invalidation_latency_ns.p50",
                                             iommu__arch="smmuv3", device__count=2))

    def test_size_suffixes_sort_numerically(self):
        rows = read_rows(WINDOW_CSV)
        plot = storm_plot(path=WINDOW_CSV, x="workload.window_bytes",
                          y="dma_read_latency_ns")
        ax = figures.sweep_figure(plot, logx=True).axes[0]
        (line,) = ax.get_lines()
        self.assertEqual(list(line.get_xdata()), [65536, 262144, 1048576])
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()], ["64K", "256K", "1M"])
        self.assertEqual(list(line.get_ydata()),
                         [csv_value(rows, "dma_read_latency_ns.p50",
                                    workload__window_bytes=w) for w in ("64K", "256K", "1M")])
        self.assertEqual(ax.get_xscale(), "log")

    def test_columns_found_by_name_and_mean_optional(self):
        # A CSV without mean columns, then the same columns reversed with a mean added.
        rows = read_rows(STORM_CSV)
        base = [c for c in rows[0].keys() if not c.endswith(".mean")]
        rows = [{c: r[c] for c in base} for r in rows]
        no_mean = os.path.join(TMP, "no_mean.csv")
        write_csv(no_mean, base, rows)
        columns = list(reversed(base)) + ["invalidation_latency_ns.mean", "extra.column"]
        for i, r in enumerate(rows):
            r["invalidation_latency_ns.mean"] = str(1000 + i)
            r["extra.column"] = "x"
        shuffled = os.path.join(TMP, "shuffled.csv")
        write_csv(shuffled, columns, rows)
        original = figures.sweep_figure(storm_plot(
            path=no_mean, x="device.count", y="invalidation_latency_ns",
            lines="iommu.arch")).axes[0]
        reordered = figures.sweep_figure(storm_plot(
            path=shuffled, x="device.count", y="invalidation_latency_ns",
            lines="iommu.arch")).axes[0]
        for a, b in zip(original.get_lines(), reordered.get_lines()):
            self.assertEqual(list(a.get_ydata()), list(b.get_ydata()))
        mean = storm_plot(path=shuffled, x="device.count", y="invalidation_latency_ns",
                          lines="iommu.arch", center="mean", band="none")
        vtd = mean.series[0]
        self.assertEqual(vtd.y, [csv_value(rows, "invalidation_latency_ns.mean",
                                             iommu__arch="vtd", device__count=d)
                                   for d in DEVICES])
        with self.assertRaisesRegex(data.PlotError, r"invalidation_latency_ns\.mean"):
            storm_plot(path=no_mean, x="device.count", y="invalidation_latency_ns",
                       center="mean", lines="iommu.arch")

    def test_failed_point_is_left_out_with_a_warning(self):
        rows = read_rows(STORM_CSV)
        columns = list(rows[0].keys())
        knobs = ("iommu.arch", "device.count")
        failed = next(i for i, r in enumerate(rows)
                      if r["iommu.arch"] == "smmuv3" and r["device.count"] == "2")
        for c in columns:
            if c not in knobs:
                rows[failed][c] = ""
        rows[failed]["exit_status"] = "2"
        path = os.path.join(TMP, "failed.csv")
        write_csv(path, columns, rows)
        plot = storm_plot(path=path, x="device.count", y="invalidation_latency_ns",
                          lines="iommu.arch")
        self.assertEqual(plot.series[1].x, [1, 4])
        self.assertEqual(plot.series[0].x, DEVICES)
        self.assertEqual(len(plot.warnings), 1)
        self.assertIn(f"failed.csv:{failed + 2}:", plot.warnings[0])
        self.assertIn("exit_status 2", plot.warnings[0])


class HistFigureTest(unittest.TestCase):
    def setUp(self):
        with open(STATS) as f:
            self.tree = json.load(f)

    def test_bars_are_the_decade_buckets(self):
        node = self.tree["sva"]["invalidation_latency"]
        h = data.select_histogram(self.tree, STATS, "sva.invalidation_latency")
        ax = figures.hist_figure([h]).axes[0]
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()],
                         list(node["buckets"].keys()))
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()][0], "<0.1us")
        self.assertEqual(len(ax.get_xticklabels()), 7)
        self.assertEqual([p.get_height() for p in ax.patches], list(node["buckets"].values()))
        self.assertEqual(sum(p.get_height() for p in ax.patches), node["count"])
        self.assertEqual(ax.get_xlabel(), "latency (Linux DMAR decade buckets)")
        self.assertEqual(ax.get_ylabel(), "samples")
        self.assertIn(f"{node['count']} samples", ax.get_title())
        self.assertGreater(node["count"], 0)

    def test_grouped_bars_of_two_devices(self):
        paths = ["device0.dma_read_latency", "device3.dma_read_latency"]
        hists = [data.select_histogram(self.tree, STATS, p) for p in paths]
        ax = figures.hist_figure(hists).axes[0]
        self.assertEqual(len(ax.patches), 14)
        self.assertEqual([t.get_text() for t in ax.get_legend().get_texts()], paths)
        want = (list(self.tree["device0"]["dma_read_latency"]["buckets"].values())
                + list(self.tree["device3"]["dma_read_latency"]["buckets"].values()))
        self.assertEqual([p.get_height() for p in ax.patches], want)

    def test_paths_of_nested_histograms(self):
        paths = data.histogram_paths(self.tree)
        self.assertIn("os.mm1.ptl_hold", paths)
        self.assertIn("iommu.command_queue.cmd_sync_latency", paths)
        self.assertNotIn("iommu.iotlb_hits", paths)  # a counter
        self.assertFalse(any(p.startswith("summary.") for p in paths))


class CommandLineTest(unittest.TestCase):
    """The command in-process (cli.main), and through scripts/iommu-sim-plot where it
    writes files or fails on bad input."""

    def plot(self, *args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(list(args))
            except SystemExit as e:  # argparse
                status = e.code
        return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())

    def run_command(self, *args):
        return subprocess.run([sys.executable, PLOT, *args], capture_output=True, text=True,
                              timeout=120)

    def assert_input_error(self, r, *needles):
        self.assertEqual(r.returncode, 2, r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.assertNotIn("Traceback", r.stderr)

    def test_png_and_svg(self):
        png, svg = os.path.join(TMP, "fig.png"), os.path.join(TMP, "fig.svg")
        args = ["sweep", STORM_CSV, "--x", "device.count", "--y", "invalidation_latency_ns",
                "--lines", "iommu.arch", "--out", png, "--out", svg]
        r = self.run_command(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["wrote", png, "wrote", svg])
        with open(png, "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", head[16:24])
        self.assertEqual((width, height), (round(6.4 * 150), round(3.9 * 150)))
        texts = {t.text for t in ET.parse(svg).iter() if t.text}
        for label in ("device.count", "invalidation latency (ns)", "iommu.arch",
                      "vtd", "smmuv3"):
            self.assertTrue(any(label in t for t in texts), label)
        with open(svg, "rb") as f:
            first = f.read()
        self.assertEqual(self.plot(*args).returncode, 0)
        with open(svg, "rb") as f:
            self.assertEqual(f.read(), first)  # same bytes from one run to the next

    def test_hist_png_and_listing(self):
        png = os.path.join(TMP, "hist.png")
        r = self.run_command("hist", STATS, "--histogram", "sva.invalidation_latency",
                             "--out", png)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        r = self.plot("hist", STATS, "--list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("sva.invalidation_latency", r.stdout.split())

    def test_sweep_errors_name_the_closest_column(self):
        base = ["sweep", STORM_CSV, "--out", os.path.join(TMP, "e.png")]
        self.assert_input_error(self.plot(*base, "--x", "device.count", "--y",
                                          "invalidation_latency", "--lines", "iommu.arch"),
                                "'invalidation_latency'", "invalidation_latency_ns")
        self.assert_input_error(self.run_command(*base, "--x", "device.cout", "--y",
                                                 "invalidation_latency_ns"),
                                "--x", "'device.cout'", "closest: device.count")
        self.assert_input_error(self.plot(*base, "--x", "device.count", "--y",
                                          "invalidation_latency_ns", "--lines", "iommu.arhc"),
                                "--lines", "iommu.arch")
        self.assert_input_error(self.plot(*base, "--x", "device.count", "--y",
                                          "invalidation_latency_ns"),
                                "iommu.arch", "--lines", "--where")
        self.assert_input_error(self.plot(*base, "--x", "device.count", "--y",
                                          "dma_gb_per_s", "--band", "p99",
                                          "--lines", "iommu.arch"),
                                "--band p99", "latency base name")
        self.assert_input_error(self.plot(*base, "--x", "device.count", "--y",
                                          "invalidation_latency_ns", "--band", "p95"),
                                "--band")
        self.assert_input_error(self.plot(*base, "--x", "device.count", "--y",
                                          "invalidation_latency_ns", "--lines", "iommu.arch",
                                          "--where", "iommu.arch=amd"),
                                "--where iommu.arch=amd", "no point")

    def test_bad_files_and_formats(self):
        r = self.plot("sweep", STORM_CSV, "--x", "device.count", "--y",
                      "invalidation_latency_ns", "--lines", "iommu.arch",
                      "--out", os.path.join(TMP, "fig.jpg"))
        self.assert_input_error(r, ".jpg", ".png or .svg")
        self.assertFalse(os.path.exists(os.path.join(TMP, "fig.jpg")))
        missing = os.path.join(TMP, "missing.csv")
        self.assert_input_error(self.plot("sweep", missing, "--x", "a", "--y", "b"),
                                missing)
        rows = read_rows(STORM_CSV)
        rows[2]["invalidation_latency_ns.p50"] = "fast"
        bad = os.path.join(TMP, "bad.csv")
        write_csv(bad, list(rows[0].keys()), rows)
        self.assert_input_error(self.plot("sweep", bad, "--x", "device.count", "--y",
                                          "invalidation_latency_ns", "--lines", "iommu.arch"),
                                "bad.csv:4: invalidation_latency_ns.p50: 'fast'")
        rows = read_rows(STORM_CSV)
        twice = os.path.join(TMP, "twice.csv")
        write_csv(twice, list(rows[0].keys()), rows + rows[:1])
        self.assert_input_error(self.plot("sweep", twice, "--x", "device.count", "--y",
                                          "invalidation_latency_ns", "--lines", "iommu.arch"),
                                f"twice.csv:{len(rows) + 2}: same point as line 2",
                                "appears twice")

    def test_hist_errors_list_the_histograms(self):
        r = self.run_command("hist", STATS, "--histogram", "sva.invalidation_latencies")
        self.assert_input_error(r, "'sva.invalidation_latencies'",
                                "closest: sva.invalidation_latency", "available histograms",
                                "os.mm1.ptl_hold", "device3.dma_read_latency")
        r = self.plot("hist", STATS, "--histogram", "summary.invalidation_latency_ns")
        self.assert_input_error(r, "not a histogram", "sva.invalidation_latency")
        r = self.plot("hist", STATS)
        self.assert_input_error(r, "--histogram", "--list")
        not_json = os.path.join(TMP, "not.json")
        with open(not_json, "w") as f:
            f.write("{\n  \"a\": \n")
        self.assert_input_error(self.plot("hist", not_json, "--histogram", "a"),
                                "not.json:3", "not a stats JSON")


if __name__ == "__main__":
    unittest.main(verbosity=2)
