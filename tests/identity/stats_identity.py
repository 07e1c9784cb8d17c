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
ENV = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")

# Stats JSON keys that measure the host, not the simulation (top level).
HOST_KEYS = ["host_seconds"]
# Output lines that measure the host (the summary's wall-clock line).
HOST_LINE = re.compile(r"^host time\s")

# The throughput workload of bench/run's fast mode: ATS, a stream of 64 B reads, 4
# outstanding per thread.
THROUGHPUT = [("device.ats_enabled", "true"), ("device.pri_enabled", "true"),
              ("workload.pattern", "stream"), ("workload.max_outstanding", "4")]


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
    # Temporal decoupling: the throughput run of bench/run's fast mode, the config as
    # shipped, a mixed CPU + DMA config, and an ordering config that refuses it
    # (exit status 2, no stats).
    out.append(point("calib_dma_latency.cfg", THROUGHPUT + [("sim.quantum_ns", "10000")]))
    out.append(point("calib_dma_latency.cfg", [("sim.quantum_ns", "1000")]))
    out.append(point("default.cfg", [("sim.quantum_ns", "1000")]))
    out.append(point("cow_race.cfg", [("sim.quantum_ns", "1000")]))
    # The driver policies the invalidation storm's header compares.
    for policy in ("arm", "amd_legacy"):
        out.append(point("invalidation_storm.cfg", [("sva.policy", policy)]))
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
# Host instructions per simulated operation

INV_SCRIPT = """\
# Generated by tests/identity/stats_identity.py: a bound process drops one page and
# writes it again, so each iteration is one notifier invalidation (IOTLB + ATC of
# every device, one wait) and one CPU fault.
process P0
map P0 buf at=0x10000000 size=4K populate=write value=1
%s
cpu thread CPU-thread-0 core=0 process=P0:
  repeat %d:
    madvise buf size=4K
    store buf value=1
"""


def counter(stats, path):
    node = stats
    for part in path.split("."):
        node = node[part]
    return node["value"] if isinstance(node, dict) else node


def dma_path(sets, short, long_):
    """A synthetic-DMA path on calib_dma_latency.cfg: n requests per thread."""
    def build(n, tmp):
        return "configs/calib_dma_latency.cfg", sets + [("workload.requests", str(n))]
    return build, (short, long_), "summary.dma_requests"


def inv_path(devices, short, long_):
    def build(n, tmp):
        scn = os.path.join(tmp, "inv_%d_%d.scn" % (devices, n))
        binds = "\n".join("bind P0 device%d" % d for d in range(devices))
        with open(scn, "w") as f:
            f.write(INV_SCRIPT % (binds, n))
        cfg = os.path.join(tmp, "inv_%d_%d.cfg" % (devices, n))
        with open(cfg, "w") as f:
            f.write("include = %s\n[device]\ncount = %d\n[scenario]\nscript = %s\n" %
                    (os.path.join(ROOT, "configs", "base.cfg"), devices, os.path.basename(scn)))
        return cfg, []
    return build, (short, long_), "sva.invalidations"


def pri_path(short, long_):
    """Every request a 4 KiB read of a page nobody faulted in: a Page Request, the
    IOPF handler's fault, the response, a new translation and the read."""
    def build(n, tmp):
        return "configs/calib_dma_latency.cfg", [
            ("device.ats_enabled", "true"), ("device.pri_enabled", "true"),
            ("workload.pattern", "stream"), ("workload.max_outstanding", "1"),
            ("workload.request_bytes", "4096"), ("workload.populate", "none"),
            ("workload.window_bytes", str(4096 * n)), ("workload.requests", str(n))]
    return build, (short, long_), "iopf.page_requests"


ATC_HIT = THROUGHPUT + [("workload.window_bytes", "64K"), ("device.atc.sets", "1"),
                        ("device.atc.ways", "1024")]
# name -> (what, (build, (short n, long n), ops counter)). The short runs are at least
# one pass over a window, so its compulsory misses cancel.
MODEL_PATHS = [
    ("atc_hit", "ATS stream, every read an ATC hit (64 KiB window, 1024-entry ATC)",
     dma_path(ATC_HIT, 2048, 20480)),
    ("atc_hit_no_lookahead", "the same with sim.lookahead=false",
     dma_path(ATC_HIT + [("sim.lookahead", "false")], 2048, 20480)),
    ("atc_hit_quantum", "the same with sim.quantum_ns=10000",
     dma_path(ATC_HIT + [("sim.quantum_ns", "10000")], 2048, 20480)),
    ("atc_miss_iotlb_hit", "ATS, 64 B reads 4 KiB apart over 64 KiB, 1-entry ATC: every "
     "read a Translation Request that hits the IOTLB",
     dma_path(THROUGHPUT + [("workload.pattern", "strided"), ("workload.window_bytes", "64K"),
                            ("device.atc.sets", "1"), ("device.atc.ways", "1")], 2048, 20480)),
    ("iotlb_hit", "untranslated random reads, IOTLB hits (64 KiB window, no ATS)",
     dma_path([("workload.window_bytes", "64K")], 2048, 20480)),
    ("iotlb_miss_walk", "untranslated random reads over 64 MiB: IOTLB misses and walks",
     dma_path([("workload.window_bytes", "64M")], 2048, 12288)),
    ("invalidation_1dev", "madvise of a page of a process bound to 1 device + refault",
     inv_path(1, 200, 1200)),
    ("invalidation_4dev", "the same, bound to 4 devices", inv_path(4, 200, 1200)),
    ("pri_fault", "4 KiB read of a page not present: PRI, IOPF handler, fault, read",
     pri_path(200, 1200)),
]


def perf_works():
    try:
        r = subprocess.run(["perf", "stat", "-x,", "-e", "instructions:u", "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    except OSError:
        return False
    return r.returncode == 0 and re.match(r"^\d+,", r.stderr.strip()) is not None


def count_instructions(tool, sim, cfg, sets, tmp, tag):
    """Runs iommu-sim under the tool; returns (instructions, stats)."""
    stats_file = os.path.join(tmp, tag + ".json")
    cmd = [sim, cfg, "--stats", stats_file]
    for k, v in sets:
        cmd += ["--set", "%s=%s" % (k, v)]
    if tool == "perf":
        cmd = ["perf", "stat", "-x,", "-e", "instructions:u", "--"] + cmd
        pattern = r"^(\d+),[^,]*,instructions"
    else:
        cmd = ["valgrind", "--tool=callgrind",
               "--callgrind-out-file=" + os.path.join(tmp, tag + ".callgrind")] + cmd
        pattern = r"==\d+== Collected : (\d+)"
    r = subprocess.run(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    m = re.search(pattern, r.stderr, re.M)
    if r.returncode != 0 or m is None:
        fail("failed (exit %d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr[-2000:]))
    with open(stats_file) as f:
        return int(m.group(1)), json.load(f)


def measure_path(tool, sim, name, spec, tmp):
    build, ns, ops_path = spec
    runs = []
    for n in ns:
        cfg, sets = build(n, tmp)
        instr, stats = count_instructions(tool, sim, cfg, sets, tmp, "%s_%d" % (name, n))
        runs.append((instr, counter(stats, ops_path)))
    (i1, o1), (i2, o2) = runs
    return {"path": name, "ops": ops_path, "ops_short": o1, "ops_long": o2,
            "instr_short": i1, "instr_long": i2, "per_op": (i2 - i1) / float(o2 - o1)}


# A path may cost this much more than its baseline (--baseline).
INSTRUCTION_LIMIT = 1.10


def instructions(sim, only, jobs, tool, out, baseline):
    if tool == "auto":
        tool = "perf" if perf_works() else "callgrind"
    if tool == "callgrind" and shutil.which("valgrind") is None:
        fail("valgrind is not installed (Debian package valgrind)")
    if tool == "perf" and not perf_works():
        fail("perf stat -e instructions:u counts nothing here; use --tool callgrind")
    chosen = [(n, w, s) for n, w, s in MODEL_PATHS if not only or n in only]
    unknown = set(only or []) - {n for n, _, _ in MODEL_PATHS}
    if unknown:
        fail("unknown path(s): %s (known: %s)" % (
            ", ".join(sorted(unknown)), ", ".join(n for n, _, _ in MODEL_PATHS)))
    with tempfile.TemporaryDirectory() as tmp:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            rows = list(pool.map(lambda c: measure_path(tool, sim, c[0], c[2], tmp), chosen))
    if out:
        with open(out, "w") as f:
            json.dump({"tool": tool, "paths": rows}, f, indent=1)
            f.write("\n")
    before = {}
    if baseline:
        with open(baseline) as f:
            before = {r["path"]: r["per_op"] for r in json.load(f)["paths"]}
    print("host instructions per simulated operation (%s; (I_long - I_short) / "
          "(ops_long - ops_short))\n" % tool)
    head = ["path", "what", "ops counter", "ops short / long", "instructions short / long",
            "instructions per op"]
    if baseline:
        head += ["baseline per op", "ratio (limit %.2f)" % INSTRUCTION_LIMIT]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    over = []
    for (name, what, _), r in zip(chosen, rows):
        cells = [name, what, r["ops"], "%d / %d" % (r["ops_short"], r["ops_long"]),
                 "%d / %d" % (r["instr_short"], r["instr_long"]), "%.0f" % r["per_op"]]
        if baseline:
            if name in before:
                ratio = r["per_op"] / before[name]
                cells += ["%.0f" % before[name], "%.3f" % ratio]
                if ratio > INSTRUCTION_LIMIT:
                    over.append(name)
            else:
                cells += ["-", "not in baseline"]
        print("| " + " | ".join(cells) + " |")
    if baseline:
        print("\n%s" % ("every path within %.0f%% of the baseline" % (
            100 * (INSTRUCTION_LIMIT - 1)) if not over else "above the limit: " +
            ", ".join(over)))
    return 1 if over else 0


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
                         "path costs more than %.0f%% above it" % (100 * (INSTRUCTION_LIMIT - 1)))
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
