// The CPU operation table: every operation a CPU thread program can contain, each in
// one entry with its name, its argument schema and the function that runs it.
//
// The one table serves three readers:
//   - the scenario builder decodes an operation statement through it
//     (decode_cpu_operation: unknown operations and arguments, missing and malformed
//     values are ScriptErrors at file:line:column naming the key);
//   - the thread interpreter (platform/cpu_thread.h) runs an operation by calling its
//     entry's function, which issues the core's loads and stores or enters the kernel
//     through its system-call entry points (os/kernel.h);
//   - `iommu-sim --list-ops [--markdown]` prints it (platform/op_reference.h), and the
//     README's script reference is that Markdown (scripts/readme-ops; a test checks it).
// Adding an operation is one entry in cpu_operations.cpp.
//
// An argument is positional (ADDR, DURATION, a process name) or named (size=4K); its
// kind says how its value is written and checked, its field where the decoded value
// goes in ThreadOp. An optional argument that is not given takes its default; an
// `offset` (kind kOffset) is added to the address decoded before it.
#pragma once

#include "platform/thread_program.h"

#include <cstdint>
#include <string>
#include <vector>

namespace iosim {

class CpuThread;
struct ScriptStatement;
struct ScriptValue;

// How an argument's value is written and what it may be.
enum class ArgKind {
  kAddress,     // a map symbol or a number: a virtual address
  kOffset,      // bytes added to the address before it
  kPageBytes,   // bytes, a non-zero multiple of 4K
  kInteger,     // any 64-bit integer
  kDuration,    // a duration such as 2us
  kProt,        // none, r, rw, rx or rwx
  kFlag,        // 0 or 1
  kProcess,     // a process that exists at boot
  kNewProcess,  // the name of a process this operation creates
  kDevice,      // a device: deviceN with N < device.count
};

// Where a decoded argument goes in ThreadOp.
enum class ArgField { kAddr, kLen, kValue, kAddr2, kMm2, kProt, kShared, kDurationNs, kDevice };

struct OpArg {
  std::string name;  // named: the key (size=...); positional: its placeholder (ADDR)
  ArgKind kind;
  ArgField field;
  bool positional = false;
  bool required = true;
  uint64_t default_value = 0;  // an optional argument that is not given (raw value)
  std::string help;
  // Positional only: what the statement needs when it is missing ("an address"), and
  // the key an error in its value names.
  std::string what;
  std::string error_key;
};

struct CpuOperation {
  std::string name;         // the script keyword
  std::string recorded_as;  // the operation's name in results (the stats JSON's "op")
  std::string help;
  // Runs in the thread's process: the core enters the process's mm (its cpumask)
  // before the operation; wait is the only operation that does not.
  bool in_process = true;
  std::vector<OpArg> args;
  // Runs the operation on the thread's core; returns its result (an OS call's return
  // value; a load or store 0, or CpuThread::kKilled).
  int64_t (*run)(CpuThread& thread, const ThreadOp& op) = nullptr;

  // Derived from args when the table is built: the named arguments' keys and the
  // number of positional ones.
  std::vector<std::string> named_keys;
  size_t positional_count = 0;
};

// Every operation, in the order the reference lists them.
const std::vector<CpuOperation>& cpu_operations();
// The entry named `name`; null when there is none.
const CpuOperation* find_cpu_operation(const std::string& name);

// How the scenario builder resolves the names an operation's arguments use.
class ScriptOperands {
 public:
  // A mapped symbol's address or a number.
  virtual uint64_t address(const ScriptValue& v, const std::string& key) = 0;
  // The mm id of a process that exists at boot.
  virtual uint32_t boot_process(const ScriptValue& v, const std::string& key) = 0;
  // Declares a new process; its mm id.
  virtual uint32_t new_process(const ScriptValue& v) = 0;
  // The index of a device named deviceN.
  virtual size_t device(const ScriptValue& v, const std::string& key) = 0;

 protected:
  ~ScriptOperands() = default;
};

// Decodes one operation statement of a CPU thread block (its '@time' is the caller's).
// Throws ScriptError.
ThreadOp decode_cpu_operation(const ScriptStatement& s, ScriptOperands& names);

// Value checks shared with the boot statements (errors at the value, naming `key`).
uint32_t script_prot(const ScriptValue& v, const std::string& key);
bool script_flag(const ScriptValue& v, const std::string& key);
uint64_t script_page_bytes(const ScriptValue& v, const std::string& key);

}  // namespace iosim
