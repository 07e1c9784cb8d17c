#!/usr/bin/env python3
"""iommu-sim --slurm on a real one-node Slurm cluster started by this test.

Starts munged, slurmctld and slurmd (Debian packages munge, slurmctld, slurmd,
slurm-client; installed by scripts/setup) with a private configuration in a temporary
directory and free ports, then checks that
  - a sweep through the cluster writes the same CSV as the local run (--jobs 2);
  - points that fail are listed with their exit status and stderr, their CSV rows
    carry the status, and --resume submits only them again;
and stops the cluster. Needs root (the daemons run as root with
ProctrackType=proctrack/linuxproc and TaskPlugin=task/none); anything missing is a
failure, not a skip.

Environment: IOSIM_SIM_BINARY (the iommu-sim to test), IOSIM_CONFIG_DIR (configs/).
"""
import csv
import glob
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SIM = os.environ["IOSIM_SIM_BINARY"]
CONFIG = os.path.join(os.environ["IOSIM_CONFIG_DIR"], "calib_dma_latency.cfg")
DAEMONS = ["munged", "slurmctld", "slurmd", "sbatch", "sinfo", "scontrol"]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find(prog):
    for d in [None, "/usr/sbin", "/sbin"]:
        path = shutil.which(prog, path=d) if d else shutil.which(prog)
        if path:
            return path
    return None


class Cluster:
    def __init__(self, work):
        self.work = work
        self.conf = os.path.join(work, "slurm.conf")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self.node = socket.gethostname().split(".")[0]
        self.logs = os.path.join(work, "log")

    def run(self, args, **kw):
        return subprocess.run(args, env=self.env, capture_output=True, text=True, **kw)

    def start(self):
        if os.geteuid() != 0:
            fail("the Slurm cluster test starts slurmctld and slurmd, which needs root")
        paths = {p: find(p) for p in DAEMONS}
        missing = [p for p, path in paths.items() if not path]
        if missing:
            fail("not installed: %s (scripts/setup installs them)" % ", ".join(missing))
        self.paths = paths
        for d in ("state", "spool", "log"):
            os.makedirs(os.path.join(self.work, d))
        key = os.path.join(self.work, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        self.munge_socket = os.path.join(self.work, "munge.socket")
        r = self.run([paths["munged"], "--force", "--socket=" + self.munge_socket,
                      "--key-file=" + key, "--log-file=" + os.path.join(self.logs, "munged.log"),
                      "--pid-file=" + os.path.join(self.work, "munged.pid"),
                      "--seed-file=" + os.path.join(self.work, "munged.seed")])
        if r.returncode != 0:
            fail("munged did not start: " + r.stderr)
        w = self.work
        with open(self.conf, "w") as f:
            f.write("\n".join([
                "ClusterName=iosimtest",
                "SlurmctldHost=%s(127.0.0.1)" % self.node,
                "SlurmUser=root",
                "SlurmdUser=root",
                "AuthType=auth/munge",
                "AuthInfo=socket=" + self.munge_socket,
                "CredType=cred/munge",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "SchedulerType=sched/builtin",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_CPU",
                "StateSaveLocation=%s/state" % w,
                "SlurmdSpoolDir=%s/spool" % w,
                "SlurmctldPidFile=%s/slurmctld.pid" % w,
                "SlurmdPidFile=%s/slurmd.pid" % w,
                "SlurmctldLogFile=%s/log/slurmctld.log" % w,
                "SlurmdLogFile=%s/log/slurmd.log" % w,
                "SlurmctldPort=%d" % free_port(),
                "SlurmdPort=%d" % free_port(),
                "ReturnToService=2",
                "MpiDefault=none",
                "JobCompType=jobcomp/none",
                "AccountingStorageType=accounting_storage/none",
                "JobAcctGatherType=jobacct_gather/none",
                "NodeName=%s NodeAddr=127.0.0.1 CPUs=%d State=UNKNOWN" % (self.node,
                                                                           os.cpu_count() or 1),
                "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
                ""]))
        for daemon, extra in (("slurmctld", ["-i"]), ("slurmd", [])):
            r = self.run([paths[daemon], "-f", self.conf] + extra)
            if r.returncode != 0:
                fail("%s did not start: %s\n%s" % (daemon, r.stderr, self.log_tail()))
        deadline = time.time() + 60
        while time.time() < deadline:
            r = self.run([paths["sinfo"], "-h", "-o", "%t"])
            if r.returncode == 0 and r.stdout.strip() in ("idle", "mix", "alloc"):
                return
            time.sleep(0.5)
        fail("the node did not come up within 60 s\n" + self.log_tail())

    def log_tail(self):
        out = ""
        for path in sorted(glob.glob(os.path.join(self.logs, "*.log"))):
            with open(path, errors="replace") as f:
                out += "--- %s\n%s" % (path, "".join(f.readlines()[-15:]))
        return out

    def stop(self):
        if hasattr(self, "paths"):
            self.run([self.paths["scontrol"], "shutdown"], timeout=30)
        for name in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
            path = os.path.join(self.work, name)
            try:
                with open(path) as f:
                    os.kill(int(f.read().strip()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        time.sleep(0.5)


def sweep(cluster, args, out):
    r = cluster.run([SIM, CONFIG] + args + ["--sweep-out", out], timeout=600)
    with open(out) as f:
        text = f.read()
    return r, text


def column(text, name):
    return [row[name] for row in csv.DictReader(io.StringIO(text))]


def main():
    work = tempfile.mkdtemp(prefix="iosim-slurm-")
    os.chmod(work, 0o755)
    cluster = Cluster(work)
    try:
        cluster.start()
        axes = ["--sweep", "iommu.arch=vtd,amdvi", "--sweep", "workload.max_outstanding=1,4"]
        r, local = sweep(cluster, axes + ["--jobs", "2"], os.path.join(work, "local.csv"))
        if r.returncode != 0:
            fail("local sweep exit %d: %s" % (r.returncode, r.stderr))
        stats = os.path.join(work, "points")
        r, slurm = sweep(cluster, axes + ["--slurm", "--stats-dir", stats,
                                          "--slurm-opt=--partition=test"],
                         os.path.join(work, "slurm.csv"))
        if r.returncode != 0:
            fail("Slurm sweep exit %d: %s" % (r.returncode, r.stderr))
        if slurm != local:
            fail("the Slurm CSV differs from the local one:\n%s\n---\n%s" % (local, slurm))
        if len(glob.glob(os.path.join(stats, "*.json"))) != 4:
            fail("expected 4 point files in %s: %s" % (stats, os.listdir(stats)))
        if glob.glob(os.path.join(stats, "slurm-*")):
            fail("a job whose tasks all passed left its job directory")
        if set(column(slurm, "exit_status")) != {"0"}:
            fail("exit statuses: %s" % column(slurm, "exit_status"))

        # Points stopped at 100 ns (boot not done) exit 2: listed, kept, resumed alone.
        failing = ["--sweep", "iommu.arch=vtd,amdvi", "--sweep",
                   "sim.max_time_ns=100,1000000000", "--slurm", "--stats-dir",
                   os.path.join(work, "failing")]
        r, text = sweep(cluster, failing, os.path.join(work, "failing.csv"))
        if r.returncode != 0:
            fail("failing sweep exit %d: %s" % (r.returncode, r.stderr))
        if column(text, "exit_status") != ["2", "0", "2", "0"]:
            fail("exit statuses: %s" % column(text, "exit_status"))
        for arch in ("vtd", "amdvi"):
            line = "  iommu.arch=%s sim.max_time_ns=100: exit status 2\n" % arch
            if line not in r.stderr:
                fail("the failure list lacks %r:\n%s" % (line, r.stderr))
        if r.stderr.count("did not finish by sim.max_time_ns = 100 ns") != 2:
            fail("the failure list lacks the tasks' stderr:\n" + r.stderr)
        if "2 of 4 points failed" not in r.stderr:
            fail(r.stderr)
        r, again = sweep(cluster, failing + ["--resume"], os.path.join(work, "again.csv"))
        if "--resume: 2 of 4 points taken from" not in r.stderr:
            fail("resume did not reuse the two good points:\n" + r.stderr)
        if again != text:
            fail("the resumed CSV differs:\n%s\n---\n%s" % (text, again))
        scripts = sorted(glob.glob(os.path.join(work, "failing", "slurm-*", "job.sh")),
                         key=os.path.getmtime)
        if len(scripts) != 2:
            fail("expected the two failed jobs' directories: %s" % scripts)
        with open(scripts[-1]) as f:
            if "#SBATCH --array=0-1\n" not in f.read():
                fail("the resumed job is not an array of the two failed points")
        print("ok: Slurm sweep CSV equals the local one; failures listed; --resume ran 2 of 4")
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
