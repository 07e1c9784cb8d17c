// A sweep as one Slurm job array.
#include "platform/slurm_sweep.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace iosim {

namespace fs = std::filesystem;

namespace {

// 'text' for a POSIX shell, single quotes inside written as '\''.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) throw std::runtime_error("cannot write '" + path.string() + "'");
}

// The last `n` lines of `text`, each prefixed with "    | ".
std::string tail_lines(const std::string& text, size_t n) {
  std::deque<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > n) lines.pop_front();
  }
  std::string out;
  for (const std::string& l : lines) out += "    | " + l + "\n";
  return out;
}

// Runs sbatch with `args`, its stdout and stderr to files of `dir`; returns its
// exit status (127: it could not be executed).
int run_sbatch(const SlurmOptions& slurm, const std::vector<std::string>& args,
               const fs::path& dir) {
  const std::string out = (dir / "sbatch.out").string();
  const std::string err = (dir / "sbatch.err").string();
  std::vector<std::string> argv{slurm.sbatch};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) std::_Exit(126);
    ::dup2(o, STDOUT_FILENO);
    ::dup2(e, STDERR_FILENO);
    ::execvp(cargv[0], cargv.data());
    std::_Exit(127);
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waiting for sbatch failed");
  }
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

std::string point_label(const SweepPoint& p) {
  std::string label;
  for (const Setting& s : p.settings)
    label += (label.empty() ? "" : " ") + s.first + "=" + s.second;
  return label;
}

}  // namespace

std::string slurm_job_script(const std::string& job_dir, size_t tasks, unsigned max_running) {
  const std::string dir = fs::path(job_dir).string();
  std::ostringstream os;
  os << "#!/bin/bash\n"
     << "#SBATCH --job-name=iommu-sim-sweep\n"
     << "#SBATCH --array=0-" << (tasks == 0 ? 0 : tasks - 1);
  if (max_running > 0) os << "%" << max_running;
  os << "\n"
     << "#SBATCH --ntasks=1\n"
     << "#SBATCH --output=" << dir << "/task-%a.out\n"
     << "#SBATCH --error=" << dir << "/task-%a.err\n"
     << "# One sweep point per array task; written by iommu-sim --slurm.\n"
     << "dir=" << shell_quote(dir) << "\n"
     << "id=\"$SLURM_ARRAY_TASK_ID\"\n"
     << "mapfile -d '' args < \"$dir/task-$id.args\"\n"
     << "\"${args[@]}\" --stats \"$dir/task-$id.json\" > /dev/null\n"
     << "status=$?\n"
     << "echo \"$status\" > \"$dir/task-$id.status\"\n"
     << "exit \"$status\"\n";
  return os.str();
}

std::string parse_sbatch_job_id(const std::string& out) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const std::string id = line.substr(0, line.find(';'));
    if (!id.empty() && id.find_first_not_of("0123456789") == std::string::npos) return id;
  }
  return {};
}

std::vector<SweepResult> run_sweep_slurm(const std::vector<SweepPoint>& points,
                                         const SweepRunOptions& opts, const SlurmOptions& slurm,
                                         std::ostream& log) {
  if (opts.stats_dir.empty()) throw std::logic_error("run_sweep_slurm without a stats directory");
  std::vector<SweepResult> results;
  const std::vector<size_t> to_run = points_to_run(points, opts, results);
  if (to_run.empty()) return results;

  std::string tmpl = (fs::absolute(opts.stats_dir) / "slurm-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    throw std::runtime_error("cannot create a job directory in '" + opts.stats_dir + "'");
  }
  const fs::path dir(tmpl);
  auto task_file = [&](size_t task, const char* ext) {
    return dir / ("task-" + std::to_string(task) + ext);
  };
  for (size_t t = 0; t < to_run.size(); ++t) {
    std::string args = opts.executable + '\0';
    for (const std::string& a : point_args(opts, points[to_run[t]])) args += a + '\0';
    write_file(task_file(t, ".args"), args);
  }
  const fs::path script = dir / "job.sh";
  write_file(script, slurm_job_script(dir.string(), to_run.size(), slurm.max_running));

  std::vector<std::string> args{"--parsable", "--wait"};
  args.insert(args.end(), slurm.sbatch_args.begin(), slurm.sbatch_args.end());
  args.push_back(script.string());
  const int status = run_sbatch(slurm, args, dir);
  const std::string job = parse_sbatch_job_id(read_file(dir / "sbatch.out"));
  if (job.empty()) {
    const std::string why = read_file(dir / "sbatch.err");
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (status == 127) {
      throw SlurmError("cannot run '" + slurm.sbatch + "' (is Slurm's client installed?)");
    }
    throw SlurmError("sbatch refused the job (exit status " + std::to_string(status) + ")" +
                     (why.empty() ? std::string() : ":\n" + tail_lines(why, 10)));
  }

  std::vector<size_t> failed;
  std::string failure;  // a point file that could not be written
  for (size_t t = 0; t < to_run.size(); ++t) {
    SweepResult& r = results[to_run[t]];
    r.exit_status = 255;
    std::ifstream status_file(task_file(t, ".status"));
    int s = 0;
    if (status_file >> s) r.exit_status = s;
    try {
      take_point_stats(task_file(t, ".json").string(), opts, r);
    } catch (const std::runtime_error& e) {
      if (failure.empty()) failure = e.what();
    }
    if ((r.exit_status != 0 && r.exit_status != 1) || r.summary.empty()) failed.push_back(t);
  }
  if (!failure.empty()) throw std::runtime_error(failure);
  if (failed.empty()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    return results;
  }
  log << "iommu-sim: --slurm: " << failed.size() << " of " << to_run.size()
      << " points failed in job " << job << " (its files are kept in '" << dir.string()
      << "'; --resume runs only these again):\n";
  for (size_t t : failed) {
    const SweepResult& r = results[to_run[t]];
    log << "  " << point_label(r.point) << ": exit status " << r.exit_status;
    if (!fs::exists(task_file(t, ".status")))
      log << " (the task left no status: it did not run to its end)";
    log << "\n" << tail_lines(read_file(task_file(t, ".err")), 5);
  }
  return results;
}

}  // namespace iosim
