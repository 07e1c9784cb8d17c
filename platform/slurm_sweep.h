// A sweep run as one Slurm job array (iommu-sim --sweep ... --slurm).
//
// The points to run (with --resume, those without a complete point file) become the
// tasks 0..n-1 of one array job. Everything a task needs lives in a job directory
// inside the stats directory, which must be on a file system the compute nodes
// share: per task its argument vector (task-<i>.args, NUL-separated, the simulator's
// absolute path first), and one batch script (job.sh) that runs the task's point with
// "--stats task-<i>.json", writes the exit status to task-<i>.status and exits with
// it; Slurm writes the task's stdout and stderr to task-<i>.out and task-<i>.err.
//
// The job is submitted with "sbatch --parsable --wait [--slurm-opt ...] job.sh", so
// this call returns when every task has ended. Each task's stats then become its CSV
// row and its point file, exactly as a local run's (platform/sweep.h), so the CSV is
// the same. A task is failed when its status is neither 0 nor 1 or it left no
// readable stats; a task that left no status (cancelled, never started, node lost)
// counts as status 255. Failed tasks are listed with their status and the tail of
// their stderr, and the job directory is kept for them; when none failed it is
// removed. Re-running with --resume submits only the points without a point file.
//
// --jobs N with --slurm limits how many tasks run at once ("--array=0-k%N").
// Simplifications: the array is one submission, so its size is bounded by the
// cluster's MaxArraySize (sbatch then refuses the job, and its message is shown);
// the simulator binary must be reachable at the same path on the compute nodes.
#pragma once

#include "platform/sweep.h"

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace iosim {

// sbatch could not be run or refused the job; the message says why.
class SlurmError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SlurmOptions {
  std::string sbatch = "sbatch";         // found in PATH unless it contains '/'
  std::vector<std::string> sbatch_args;  // --slurm-opt, in order, before the script
  unsigned max_running = 0;              // array throttle (--jobs); 0: none
};

// The batch script for `tasks` tasks whose files are in `job_dir` (see above).
std::string slurm_job_script(const std::string& job_dir, size_t tasks, unsigned max_running);

// The job id of "sbatch --parsable" output ("1234" or "1234;cluster"); empty when
// the output has none.
std::string parse_sbatch_job_id(const std::string& out);

// Runs the points as one array job (opts.stats_dir must be set) and returns the
// results in point order, like run_sweep(). Lists failed tasks on `log`. Throws
// SlurmError when sbatch cannot be run or refuses the job, std::runtime_error for
// host failures (the job directory or a point file cannot be written).
std::vector<SweepResult> run_sweep_slurm(const std::vector<SweepPoint>& points,
                                         const SweepRunOptions& opts, const SlurmOptions& slurm,
                                         std::ostream& log);

}  // namespace iosim
