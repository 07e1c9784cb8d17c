#!/usr/bin/env python3
"""Checks of bench/run (run by ctest): the build step builds every program a part
runs, the commands it runs are printed only with --verbose, the fast part reports
the quantum's gain without a target, and --instructions takes its options, prints
one row per model path, writes and compares baselines (its counter replaced by a
stand-in, so no callgrind run) and the checked-in baseline names every path.

  bench/run_test.py BUILD_DIR   (a build that holds iommu-sim)
"""
import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "run")


def load_run():
    loader = importlib.machinery.SourceFileLoader("bench_run", RUN)
    spec = importlib.util.spec_from_loader("bench_run", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def programs_named_in_source():
    """Every program the script names: "<name>_bench" or "iommu-sim" string literals."""
    with open(RUN) as f:
        text = f.read()
    return set(re.findall(r'"([a-z_]+_bench|iommu-sim)"', text))


def targets_built():
    """The targets bench/run's build step asks cmake for (its commands captured)."""
    run = load_run()
    commands = []
    run.sh = lambda cmd, **kw: commands.append(cmd)
    run.build("build-dir")
    targets = set()
    for cmd in commands:
        if "--target" in cmd:
            targets.update(cmd[cmd.index("--target") + 1:])
    return targets


def check_builds_what_it_runs(failures):
    built = targets_built()
    for program in sorted(programs_named_in_source() - built):
        failures.append("bench/run runs %s but its build step does not build it" % program)


def check_verbose(build_dir, failures):
    base = [sys.executable, RUN, "--only", "calib", "--quick", "--no-build",
            "--build-dir", build_dir]
    quiet = subprocess.run(base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if quiet.returncode != 0:
        failures.append("bench/run --only calib failed: " + quiet.stderr[-1000:])
        return
    if quiet.stderr.strip():
        failures.append("without --verbose, stderr is not empty:\n" + quiet.stderr[:500])
    if "| 1M " not in quiet.stdout:
        failures.append("the calib table is missing:\n" + quiet.stdout[:500])
    loud = subprocess.run(base + ["--verbose"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    commands = [l for l in loud.stderr.splitlines() if l.startswith("+ ")]
    if len(commands) != 4 or not all("iommu-sim" in c for c in commands):
        failures.append("with --verbose, expected the 4 iommu-sim commands on stderr, got:\n" +
                        loud.stderr[:1000])


def check_fast_has_no_target(build_dir, failures):
    """The fast part reports the quantum's gain, with no target or pass/fail verdict."""
    p = subprocess.run([sys.executable, RUN, "--only", "fast", "--quick", "--no-build",
                        "--build-dir", build_dir], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0 or "speed-up vs 0" not in p.stdout:
        failures.append("bench/run --only fast failed: " + (p.stdout + p.stderr)[-1000:])
    elif re.search(r"target|pass|FAIL", p.stdout):
        failures.append("the fast part still states a target:\n" + p.stdout)


PER_OP = 100  # the stand-in counter's instructions per simulated operation


def fake_count(tool, sim, cfg, sets, tmp, tag):
    """Stands in for instructions.count_instructions: a run of n operations (the
    number that ends its tag) costs 10^6 + PER_OP * n instructions."""
    n = int(tag.rsplit("_", 1)[1])
    stats = {"summary": {"dma_requests": {"value": n}}, "sva": {"invalidations": {"value": n}},
             "iopf": {"page_requests": {"value": n}}}
    return 1000000 + PER_OP * n, stats


def run_main(run, argv):
    """bench/run's main(argv) in this process: (exit status, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            status = run.main(argv)
        except SystemExit as e:
            status = e.code
    return status, out.getvalue()


def check_instructions(build_dir, failures):
    for bad in (["--instructions", "--only", "paths"], ["--baseline", "b.json"],
                ["--instructions", "--path", "no_such_path"]):
        p = subprocess.run([sys.executable, RUN, "--no-build", "--build-dir", build_dir] + bad,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 2 or "usage:" not in p.stderr:
            failures.append("bench/run %s: expected a usage error (exit 2), got exit %d:\n%s"
                            % (" ".join(bad), p.returncode, p.stderr[-500:]))
    helped = subprocess.run([sys.executable, RUN, "--help"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    text = " ".join(helped.stdout.split())
    if (helped.returncode != 0 or "more than 10% above it --out" not in text or
            "option_strings" in text):
        failures.append("bench/run --help does not state the 10% limit:\n" +
                        (helped.stdout + helped.stderr)[-1000:])
    run = load_run()
    run.instructions.count_instructions = fake_count
    run.instructions.choose_tool = lambda tool: "callgrind"
    names = run.instructions.PATH_NAMES
    base = ["--instructions", "--no-build", "--build-dir", build_dir]
    with tempfile.TemporaryDirectory() as tmp:
        out_json = os.path.join(tmp, "out.json")
        status, text = run_main(run, base + ["--out", out_json])
        rows = [l for l in text.splitlines() if l.startswith("| ") and "---" not in l]
        if status != 0 or [r.split("|")[1].strip() for r in rows[1:]] != names:
            failures.append("bench/run --instructions: expected exit 0 and one row per path "
                            "(%s), got exit %s:\n%s" % (", ".join(names), status, text))
        elif any(r.split("|")[6].strip() != str(PER_OP) for r in rows[1:]):
            failures.append("bench/run --instructions: expected %d instructions per op in "
                            "every row:\n%s" % (PER_OP, text))
        with open(out_json) as f:
            written = json.load(f)
        if ([r["path"] for r in written["paths"]] != names or
                any(r["per_op"] != PER_OP for r in written["paths"])):
            failures.append("bench/run --instructions --out wrote:\n" + json.dumps(written))
        status, text = run_main(run, base + ["--baseline", out_json, "--path", "atc_hit"])
        if status != 0 or "every path within 10% of the baseline" not in text:
            failures.append("--baseline of the same numbers: expected exit 0, got %s:\n%s"
                            % (status, text))
        # atc_hit cost 12% more than this baseline says, iotlb_hit 9%: only atc_hit fails.
        for r in written["paths"]:
            r["per_op"] = {"atc_hit": PER_OP / 1.12, "iotlb_hit": PER_OP / 1.09}.get(
                r["path"], r["per_op"])
        lower = os.path.join(tmp, "lower.json")
        with open(lower, "w") as f:
            json.dump(written, f)
        status, text = run_main(run, base + ["--baseline", lower])
        if status != 1 or not text.rstrip().endswith("above the limit: atc_hit"):
            failures.append("--baseline 12%% below on atc_hit: expected exit 1 naming only "
                            "atc_hit, got %s:\n%s" % (status, text))
    try:
        checked_in = run.instructions.load_baseline(
            os.path.join(HERE, "instructions_baseline.json"))
    except run.instructions.Error as e:
        failures.append(str(e))
        return
    if sorted(checked_in) != sorted(names):
        failures.append("bench/instructions_baseline.json names %s, the model paths are %s"
                        % (sorted(checked_in), sorted(names)))


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    failures = []
    check_builds_what_it_runs(failures)
    check_verbose(sys.argv[1], failures)
    check_fast_has_no_target(sys.argv[1], failures)
    check_instructions(sys.argv[1], failures)
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("bench/run checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
