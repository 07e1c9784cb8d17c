#!/usr/bin/env python3
"""Checks of bench/run (run by ctest): the build step builds every program a part
runs, the commands it runs are printed only with --verbose, and the fast part
reports the quantum's gain without a target.

  bench/run_test.py BUILD_DIR   (a build that holds iommu-sim)
"""
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys

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


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    failures = []
    check_builds_what_it_runs(failures)
    check_verbose(sys.argv[1], failures)
    check_fast_has_no_target(sys.argv[1], failures)
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("bench/run checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
