#!/usr/bin/env python3
"""Self-test of stats_identity.py: its compare mode on small synthetic records (an
identical pair passes; one differing number, an exit status or a missing stats file
fails and is named with before and after), and its record mode with a stand-in
simulator whose host time changes on every run (removed, so two records compare
identical). Runs from ctest; needs no iommu-sim.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "stats_identity.py")

STATS = {
    "iommu": {"walks": {"kind": "counter", "value": 12},
              "walk_latency": {"kind": "histogram", "count": 3, "p50": 274.75,
                               "buckets": {"<0.1us": 0, "0.1us-1us": 3}}},
    "sim_time_ns": 291530.5,
    "scenario": {"reads": [{"va": "0x10000000", "value": 1}, {"va": "0x10001000",
                                                              "value": 2}]},
}

# A stand-in for iommu-sim: writes STATS plus a host time that differs on every run,
# prints a summary with a host time line, and exits with the status in FAKE_EXIT.
FAKE_SIM = """#!%s
import json, os, sys, time
stats = json.loads(%r)
stats["host_seconds"] = time.time()
path = sys.argv[sys.argv.index("--stats") + 1]
with open(path, "w") as f:
    json.dump(stats, f)
print("== iommu-sim summary ==")
print("host time             %%.6f s" %% time.time())
print("checkers              clean")
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


def write_record(directory, stats, exit_status=0, output="summary\n"):
    """One point named `p` as record writes it."""
    os.makedirs(directory, exist_ok=True)
    entry = {"name": "p", "args": ["configs/p.cfg"], "exit_status": exit_status,
             "stats": None, "output": "p.out", "command": "iommu-sim configs/p.cfg"}
    if stats is not None:
        entry["stats"] = "p.json"
        with open(os.path.join(directory, "p.json"), "w") as f:
            json.dump(stats, f)
    with open(os.path.join(directory, "p.out"), "w") as f:
        f.write(output)
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump({"points": [entry]}, f)


def run(*args, env=None):
    return subprocess.run([sys.executable, SCRIPT] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env)


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.base = os.path.join(self.tmp.name, "base")
        self.new = os.path.join(self.tmp.name, "new")
        write_record(self.base, STATS)

    def tearDown(self):
        self.tmp.cleanup()

    def test_identical_pair_exits_0(self):
        write_record(self.new, json.loads(json.dumps(STATS)))
        r = run("compare", self.base, self.new)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("identical  p", r.stdout)
        self.assertIn("1 identical, 0 differ", r.stdout)

    def test_one_differing_number_exits_1_and_names_the_path(self):
        changed = json.loads(json.dumps(STATS))
        changed["iommu"]["walk_latency"]["p50"] = 275.0
        write_record(self.new, changed)
        r = run("compare", self.base, self.new)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("differs    p", r.stdout)
        self.assertIn("1 path(s) differ", r.stdout)
        self.assertIn("iommu.walk_latency.p50: 274.75 -> 275.0", r.stdout)
        self.assertIn("0 identical, 1 differ", r.stdout)

    def test_a_number_in_a_list_and_its_json_type(self):
        changed = json.loads(json.dumps(STATS))
        changed["scenario"]["reads"][1]["value"] = 2.0  # same value, another JSON type
        changed["iommu"]["walks"]["value"] = 13
        write_record(self.new, changed)
        r = run("compare", self.base, self.new, "--max-diffs", "1")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("2 path(s) differ, the first 1:", r.stdout)
        self.assertIn("iommu.walks.value: 12 -> 13", r.stdout)
        self.assertNotIn("scenario.reads[1].value", r.stdout)
        r = run("compare", self.base, self.new)
        self.assertIn("scenario.reads[1].value: 2 -> 2.0", r.stdout)

    def test_an_ignored_path_is_shown_but_passes(self):
        changed = json.loads(json.dumps(STATS))
        changed["iommu"]["walks"]["value"] = 13
        write_record(self.new, changed)
        r = run("compare", self.base, self.new, "--ignore", "iommu.walks.*")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("ignored: iommu.walks.value: 12 -> 13", r.stdout)

    def test_exit_status_missing_stats_and_output(self):
        write_record(self.new, None, exit_status=2, output="error\n")
        r = run("compare", self.base, self.new)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("exit status: 0 -> 2", r.stdout)
        self.assertIn("stats JSON: written -> none", r.stdout)
        self.assertIn("before: summary", r.stdout)
        self.assertIn("after:  error", r.stdout)

    def test_a_missing_key_is_named(self):
        changed = json.loads(json.dumps(STATS))
        del changed["sim_time_ns"]
        write_record(self.new, changed)
        r = run("compare", self.base, self.new)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("sim_time_ns: 291530.5 -> <absent>", r.stdout)


class RecordTest(unittest.TestCase):
    def test_host_time_is_removed_and_exit_status_kept(self):
        with tempfile.TemporaryDirectory() as tmp:
            sim = os.path.join(tmp, "fake-sim")
            with open(sim, "w") as f:
                f.write(FAKE_SIM % (sys.executable, json.dumps(STATS)))
            os.chmod(sim, 0o755)
            env = dict(os.environ, FAKE_EXIT="1")
            a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
            for d in (a, b):
                r = run("record", d, "--sim", sim, "--point", "cow_race*", env=env)
                self.assertEqual(r.returncode, 0, r.stdout)
            with open(os.path.join(a, "manifest.json")) as f:
                entries = json.load(f)["points"]
            self.assertGreater(len(entries), 1)
            self.assertTrue(all(e["name"].startswith("cow_race") for e in entries))
            self.assertTrue(all(e["exit_status"] == 1 for e in entries))
            with open(os.path.join(a, entries[0]["stats"])) as f:
                recorded = json.load(f)
            self.assertNotIn("host_seconds", recorded)
            self.assertEqual(recorded, STATS)
            with open(os.path.join(a, entries[0]["output"])) as f:
                self.assertNotIn("host time", f.read())
            r = run("compare", a, b)
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn("%d identical, 0 differ" % len(entries), r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
