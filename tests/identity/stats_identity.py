#!/usr/bin/env python3
"""Stats identity of iommu-sim, and host instructions per simulated operation.

A behaviour-preserving change proves itself by identity: record the stats of every
point below with the build before the change, then compare the build after it.

  stats_identity.py list                      the points and their command lines
  stats_identity.py record OUTDIR             run every point, write OUTDIR/<point>.json
                                              (host-dependent fields removed),
                                              OUTDIR/<point>.out and OUTDIR/manifest.json
  stats_identity.py compare BASEDIR [NEWDIR]  compare NEWDIR (or a fresh run of BASEDIR's
                                              points) with BASEDIR; exit 0 only if every
                                              point is identical
  stats_identity.py instructions [--out F] [--baseline F]
                                              host instructions per simulated operation of
                                              the model paths (callgrind, or perf stat
                                              where the instructions counter works); with
                                              --baseline, exit 1 if a path costs > 10% more
                                              (bench/instructions.py, which bench/run
                                              --instructions runs too)

A point is one iommu-sim run: a config with --set overrides (and a seed). Its record
is the exit status, the stats JSON less `host_seconds`, and stdout + stderr less the
summary's `host time` line (checker violation reports are printed there).
Common options: --sim PATH (default build/iommu-sim), --jobs N (default 2).
"""
import argparse
import concurrent.futures
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "bench"))
import instructions as model_instructions  # noqa: E402  (bench/instructions.py)

ENV = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")

# Stats JSON keys that measure the host, not the simulation (top level).
HOST_KEYS = ["host_seconds"]
# Output lines that measure the host (the summary's wall-clock line).
HOST_LINE = re.compile(r"^host time\s")

# The throughput workload of bench/run's fast mode: ATS, a stream of 64 B reads, 4
# outstanding per thread.
THROUGHPUT = model_instructions.THROUGHPUT


def fail(message):
    """An error of the input or of a run (not a difference): exit status 2."""
    print("stats_identity.py: " + message, file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------------------------
# Points


def point(config, sets=(), seed=None):
    """One point: a config under configs/, --set overrides in order, an optional seed."""
    name = os.path.splitext(config)[0]
    for k, v in sets:
        name += "+%s=%s" % (k, v)
    if seed is not None:
        name += "+seed=%d" % seed
    args = [os.path.join("configs", config)]
    for k, v in sets:
        args += ["--set", "%s=%s" % (k, v)]
    if seed is not None:
        args += ["--seed", str(seed)]
    return {"name": name, "args": args}


def shipped_configs():
    return sorted(f for f in os.listdir(os.path.join(ROOT, "configs")) if f.endswith(".cfg"))


def points():
    """The point list. base.cfg runs alone (boot only, no workload), so it is a point
    too; the variants are of the configs that run something."""
    cfgs = shipped_configs()
    runnable = [c for c in cfgs if c != "base.cfg"]
    out = [point(c) for c in cfgs]
    # Both secondary-TLB placements for every config: the ordering configs (cow_race,
    # munmap_free, ksm_wrprotect, invalidation_storm, multi_pasid) state what each
    # gives; the others must not depend on it beyond their invalidation timing.
    for c in runnable:
        for flush in ("under_ptl", "range_end"):
            out.append(point(c, [("os.secondary_tlb_flush", flush)]))
    # Every wait taken (the lookahead off).
    for c in runnable:
        out.append(point(c, [("sim.lookahead", "false")]))
    # Every config on each other architecture's front-end and driver.
    for arch in ("smmuv3", "riscv", "amdvi"):
        for c in runnable:
            out.append(point(c, [("iommu.arch", arch)]))
    # Temporal decoupling: the throughput run of bench/run's fast mode, the config as
    # shipped, a mixed CPU + DMA config, and an ordering config that refuses it
    # (exit status 2, no stats).
    out.append(point("calib_dma_latency.cfg", THROUGHPUT + [("sim.quantum_ns", "10000")]))
    out.append(point("calib_dma_latency.cfg", [("sim.quantum_ns", "1000")]))
    out.append(point("default.cfg", [("sim.quantum_ns", "1000")]))
    out.append(point("cow_race.cfg", [("sim.quantum_ns", "1000")]))
    # AMD-Vi's other driver, and SMMUv3 without range invalidation.
    out.append(point("invalidation_storm.cfg", [("iommu.arch", "amdvi"),
                                                ("sva.policy", "amd_legacy")]))
    out.append(point("invalidation_storm.cfg", [("iommu.arch", "smmuv3"),
                                                ("iommu.smmuv3.range_invalidation", "false")]))
    # The synthetic patterns no shipped config uses, and another seed.
    for pattern in ("strided", "hotset", "zipf"):
        out.append(point("calib_dma_latency.cfg",
                         [("workload.pattern", pattern), ("workload.requests", "5000")]))
    out.append(point("calib_dma_latency.cfg", seed=7))
    return out


def file_stem(name):
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", name)


def command_line(sim, p, stats):
    return " ".join([sim] + p["args"] + ["--stats", stats])


def strip_output(text):
    return "".join(l for l in text.splitlines(True) if not HOST_LINE.match(l))


def run_point(sim, p, outdir):
    """Runs one point; writes OUTDIR/<stem>.json (if the run wrote stats) and
    OUTDIR/<stem>.out; returns its manifest entry."""
    stem = file_stem(p["name"])
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "stats.json")
        r = subprocess.run([sim] + p["args"] + ["--stats", raw], cwd=ROOT, env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        stats = None
        if os.path.exists(raw):
            with open(raw) as f:
                data = json.load(f)
            for k in HOST_KEYS:
                data.pop(k, None)
            stats = stem + ".json"
            with open(os.path.join(outdir, stats), "w") as f:
                json.dump(data, f, indent=1)
                f.write("\n")
    with open(os.path.join(outdir, stem + ".out"), "w") as f:
        f.write(strip_output(r.stdout))
    return {"name": p["name"], "args": p["args"], "exit_status": r.returncode,
            "stats": stats, "output": stem + ".out",
            "command": command_line(os.path.relpath(sim, ROOT) if os.path.isabs(sim) else sim,
                                    p, stats or "-")}


def record(sim, pts, outdir, jobs):
    os.makedirs(outdir, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        entries = list(pool.map(lambda p: run_point(sim, p, outdir), pts))
    manifest = {"sim": sim, "host_keys_removed": HOST_KEYS, "points": entries}
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return manifest


# ---------------------------------------------------------------------------------
# Comparison


ABSENT = object()  # a key or list element one side does not have


def json_diffs(a, b, path=""):
    """Yields (path, before, after) for every leaf that differs; a number differs from
    the same value of another JSON type (1 against 1.0), a missing key or element is ABSENT."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            sub = "%s.%s" % (path, k) if path else k
            if k not in b:
                yield sub, a[k], ABSENT
            elif k not in a:
                yield sub, ABSENT, b[k]
            else:
                yield from json_diffs(a[k], b[k], sub)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            sub = "%s[%d]" % (path, i)
            if i >= len(b):
                yield sub, a[i], ABSENT
            elif i >= len(a):
                yield sub, ABSENT, b[i]
            else:
                yield from json_diffs(a[i], b[i], sub)
    elif type(a) is not type(b) or a != b:
        yield path, a, b


def load(directory, name):
    with open(os.path.join(directory, name)) as f:
        return json.load(f) if name.endswith(".json") else f.read()


def show(v):
    return "<absent>" if v is ABSENT else json.dumps(v)


def compare_point(base, new, bdir, ndir, max_diffs, ignore):
    """Returns (identical, report lines) for one point."""
    lines, ignored = [], []
    if base["exit_status"] != new["exit_status"]:
        lines.append("  exit status: %d -> %d" % (base["exit_status"], new["exit_status"]))
    if (base["stats"] is None) != (new["stats"] is None):
        lines.append("  stats JSON: %s -> %s" % ("written" if base["stats"] else "none",
                                                  "written" if new["stats"] else "none"))
    elif base["stats"] is not None:
        diffs = []
        for path, a, b in json_diffs(load(bdir, base["stats"]), load(ndir, new["stats"])):
            (ignored if any(fnmatch.fnmatchcase(path, g) for g in ignore) else diffs).append(
                (path, a, b))
        if diffs:
            lines.append("  stats JSON: %d path(s) differ%s" %
                         (len(diffs), ", the first %d:" % max_diffs
                          if len(diffs) > max_diffs else ":"))
            for path, a, b in diffs[:max_diffs]:
                lines.append("    %s: %s -> %s" % (path, show(a), show(b)))
    out_a, out_b = load(bdir, base["output"]), load(ndir, new["output"])
    if out_a != out_b:
        la, lb = out_a.splitlines(), out_b.splitlines()
        i = next((i for i in range(min(len(la), len(lb))) if la[i] != lb[i]),
                 min(len(la), len(lb)))
        lines.append("  output: differs from line %d:" % (i + 1))
        lines.append("    before: %s" % (la[i] if i < len(la) else "<end>"))
        lines.append("    after:  %s" % (lb[i] if i < len(lb) else "<end>"))
    identical = not lines
    for path, a, b in ignored[:max_diffs]:
        lines.append("  ignored: %s: %s -> %s" % (path, show(a), show(b)))
    if len(ignored) > max_diffs:
        lines.append("  ignored: %d more" % (len(ignored) - max_diffs))
    return identical, lines


def selected(entries, globs):
    return [e for e in entries if not globs or any(fnmatch.fnmatchcase(e["name"], g)
                                                   for g in globs)]


def manifest_points(directory):
    path = os.path.join(directory, "manifest.json")
    if not os.path.isfile(path):
        fail("%s: no manifest.json (not a directory written by record)" % directory)
    with open(path) as f:
        return json.load(f)["points"]


def compare(bdir, ndir, max_diffs, ignore, globs):
    """Prints one line per point and the differences; returns the exit status."""
    base = {e["name"]: e for e in selected(manifest_points(bdir), globs)}
    new = {e["name"]: e for e in selected(manifest_points(ndir), globs)}
    same = differ = 0
    for name in list(base) + [n for n in new if n not in base]:
        if name not in new or name not in base:
            print("differs    %s: only in %s" % (name, bdir if name in base else ndir))
            differ += 1
            continue
        ok, lines = compare_point(base[name], new[name], bdir, ndir, max_diffs, ignore)
        print("%-10s %s" % ("identical" if ok else "differs", name))
        for l in lines:
            print(l)
        same, differ = same + ok, differ + (not ok)
    print("%d identical, %d differ" % (same, differ))
    return 0 if differ == 0 else 1


# ---------------------------------------------------------------------------------
# Host instructions per simulated operation: bench/instructions.py (bench/run
# --instructions prints the same numbers).


def instructions(sim, only, jobs, tool, out, baseline):
    command = "tests/identity/stats_identity.py instructions" + "".join(
        " --only " + n for n in only or [])
    try:
        return model_instructions.run(sim, only, jobs, tool, out, baseline, command,
                                      sys.stdout)
    except model_instructions.Error as e:
        fail(str(e))


# ---------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["list", "record", "compare", "instructions"])
    ap.add_argument("dirs", nargs="*", help="record: OUTDIR; compare: BASEDIR [NEWDIR]")
    ap.add_argument("--sim", default=os.path.join(ROOT, "build", "iommu-sim"),
                    help="the iommu-sim binary (default build/iommu-sim)")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    ap.add_argument("--max-diffs", type=int, default=10,
                    help="compare: differing JSON paths shown per point (default 10)")
    ap.add_argument("--ignore", action="append", default=[], metavar="GLOB",
                    help="compare: JSON paths (fnmatch) whose change is expected; shown "
                         "with before and after but not counted (repeatable)")
    ap.add_argument("--point", action="append", metavar="GLOB",
                    help="record, compare: only the points whose name matches (fnmatch, "
                         "repeatable; default every point)")
    ap.add_argument("--only", action="append", metavar="PATH",
                    help="instructions: measure only this model path (repeatable)")
    ap.add_argument("--out", metavar="FILE",
                    help="instructions: also write the numbers as JSON to FILE")
    ap.add_argument("--baseline", metavar="FILE",
                    help="instructions: compare with a JSON written by --out; exit 1 if a "
                         "path costs more than %.0f%%%% above it" % (100 * (model_instructions.LIMIT - 1)))
    ap.add_argument("--tool", choices=["auto", "callgrind", "perf"], default="auto",
                    help="instructions: the counter (default: perf if it counts "
                         "instructions here, else callgrind)")
    a = ap.parse_args()
    want = {"list": (0, 0), "record": (1, 1), "compare": (1, 2), "instructions": (0, 0)}
    lo, hi = want[a.mode]
    if not lo <= len(a.dirs) <= hi:
        ap.error("%s takes %s" % (a.mode, {"list": "no directory", "record": "OUTDIR",
                                            "compare": "BASEDIR [NEWDIR]",
                                            "instructions": "no directory"}[a.mode]))
    sim = os.path.abspath(a.sim)
    if a.mode in ("record", "instructions") or (a.mode == "compare" and len(a.dirs) == 1):
        if not os.access(sim, os.X_OK):
            ap.error("%s: no such executable (build it or pass --sim)" % a.sim)
    if a.mode == "list":
        for p in selected(points(), a.point):
            print("%s\n    %s" % (p["name"], command_line("build/iommu-sim", p, "OUT.json")))
        return 0
    if a.mode == "record":
        pts = selected(points(), a.point)
        if not pts:
            ap.error("no point matches %s" % ", ".join(a.point))
        m = record(sim, pts, a.dirs[0], a.jobs)
        print("recorded %d points in %s" % (len(m["points"]), a.dirs[0]))
        return 0
    if a.mode == "instructions":
        return instructions(sim, a.only, a.jobs, a.tool, a.out, a.baseline)
    bdir = a.dirs[0]
    if len(a.dirs) == 2:
        return compare(bdir, a.dirs[1], a.max_diffs, a.ignore, a.point)
    # Re-run BASEDIR's own points (its exact command lines) with this build.
    pts = [{"name": e["name"], "args": e["args"]} for e in selected(manifest_points(bdir), a.point)]
    ndir = tempfile.mkdtemp(prefix="stats_identity.")
    record(sim, pts, ndir, a.jobs)
    status = compare(bdir, ndir, a.max_diffs, a.ignore, a.point)
    if status == 0:
        shutil.rmtree(ndir)
    else:
        print("this build's records are kept in %s" % ndir)
    return status


if __name__ == "__main__":
    sys.exit(main())
