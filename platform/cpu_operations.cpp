// The CPU operation table and the decoding of an operation statement through it.
#include "platform/cpu_operations.h"

#include "os/mm_ops.h"
#include "platform/cpu_thread.h"
#include "platform/script_ast.h"
#include "sc_models/memory/page_size.h"

#include <systemc>

namespace iosim {

namespace {

[[noreturn]] void fail(const ScriptLoc& loc, const std::string& key, const std::string& msg) {
  throw ScriptError(script_error(loc, key, msg));
}

constexpr uint64_t kPage = kPageBytes;
constexpr uint64_t kProtRw = kProtRead | kProtWrite;
// CpuOperation::in_process.
constexpr bool kInProcess = true;
constexpr bool kOnThread = false;

// ---- argument schemas ------------------------------------------------------------

OpArg arg(const char* name, ArgKind kind, ArgField field, const char* help) {
  OpArg a{};
  a.name = name;
  a.kind = kind;
  a.field = field;
  a.help = help;
  return a;
}
OpArg positional(const char* name, ArgKind kind, ArgField field, const char* what,
                 const char* error_key, const char* help) {
  OpArg a = arg(name, kind, field, help);
  a.positional = true;
  a.what = what;
  a.error_key = error_key;
  return a;
}
OpArg required(const char* name, ArgKind kind, ArgField field, const char* help) {
  return arg(name, kind, field, help);
}
OpArg optional(const char* name, ArgKind kind, ArgField field, uint64_t default_value,
               const char* help) {
  OpArg a = arg(name, kind, field, help);
  a.required = false;
  a.default_value = default_value;
  return a;
}

// The operation's address (positional) and the offset added to it.
OpArg addr() {
  return positional("ADDR", ArgKind::kAddress, ArgField::kAddr, "an address", "address", "");
}
OpArg offset() {
  return optional("offset", ArgKind::kOffset, ArgField::kAddr, 0, "added to ADDR");
}
OpArg size() {
  return required("size", ArgKind::kPageBytes, ArgField::kLen, "the range's length");
}
// owner=DEVICE: the range's owner cookie is that device driver's.
OpArg owner_arg(const char* help) {
  return optional("owner", ArgKind::kDevice, ArgField::kDevice, ThreadOp::kNoDevice, help);
}
OpArg device_arg() {
  return positional("DEVICE", ArgKind::kDevice, ArgField::kDevice, "a device such as device0",
                    "device", "");
}

// ---- the table ---------------------------------------------------------------------

using RunFn = int64_t (*)(CpuThread&, const ThreadOp&);

CpuOperation entry(const char* name, const char* recorded_as, const char* help, bool in_process,
                   std::vector<OpArg> args, RunFn run) {
  CpuOperation o;
  o.name = name;
  o.recorded_as = recorded_as;
  o.help = help;
  o.in_process = in_process;
  o.args = std::move(args);
  o.run = run;
  for (const OpArg& a : o.args) {
    if (a.positional) {
      ++o.positional_count;
    } else {
      o.named_keys.push_back(a.name);
    }
  }
  return o;
}

std::vector<CpuOperation> make_table() {
  using T = CpuThread;
  using Op = ThreadOp;
  std::vector<CpuOperation> ops;
  ops.push_back(
      entry("load", "load",
            "8-byte load through the core's TLB and page walker; a page fault runs the OS "
            "fault handler and retries, a fatal one (SIGSEGV) kills the thread",
            kInProcess, {addr(), offset()}, [](T& t, const Op& o) { return t.load(o.addr); }));
  ops.push_back(
      entry("store", "store",
            "8-byte store of value, on the same path as a load (a write to a read-only PTE "
            "faults: COW or write-protect)",
            kInProcess,
            {addr(), offset(),
             required("value", ArgKind::kInteger, ArgField::kValue, "the value stored")},
            [](T& t, const Op& o) { return t.store(o.addr, o.value); }));
  ops.push_back(entry("wait", "wait", "the thread does nothing for the duration", kOnThread,
                      {positional("DURATION", ArgKind::kDuration, ArgField::kDurationNs,
                                  "a duration such as 2us", "a duration such as 2us", "")},
                      [](T&, const Op& o) -> int64_t {
                        sc_core::wait(ns(o.duration_ns));
                        return 0;
                      }));
  ops.push_back(entry("munmap", "munmap", "munmap(2) of the range (notifier event UNMAP)",
                      kInProcess, {addr(), offset(), size()}, [](T& t, const Op& o) -> int64_t {
                        return t.kernel().munmap(t.mm(), t.cpu(), o.addr, o.len);
                      }));
  ops.push_back(entry("madvise", "madvise_dontneed", "madvise(MADV_DONTNEED) of the range (CLEAR)",
                      kInProcess, {addr(), offset(), size()}, [](T& t, const Op& o) -> int64_t {
                        return t.kernel().madvise_dontneed(t.mm(), t.cpu(), o.addr, o.len);
                      }));
  ops.push_back(entry("madvise_hugepage", "madvise_hugepage",
                      "madvise(MADV_HUGEPAGE) of the range: VM_HUGEPAGE, so faults there map 2 MiB "
                      "pages under os.thp = madvise (no notifier)",
                      kInProcess, {addr(), offset(), size()}, [](T& t, const Op& o) -> int64_t {
                        return t.kernel().madvise_hugepage(t.mm(), t.cpu(), o.addr, o.len);
                      }));
  ops.push_back(entry("collapse", "collapse",
                      "khugepaged-style collapse of the 2 MiB at ADDR (aligned) into one PMD leaf "
                      "(CLEAR over the 2 MiB); the result is 0, -EINVAL (misaligned or not one "
                      "private VMA), -EAGAIN (a PTE not present or shared), -ENOMEM (no huge page)",
                      kInProcess, {addr(), offset()}, [](T& t, const Op& o) -> int64_t {
                        return t.kernel().collapse(t.mm(), t.cpu(), o.addr);
                      }));
  ops.push_back(entry("mprotect", "mprotect", "mprotect(2) of the range (PROTECTION_VMA)",
                      kInProcess,
                      {addr(), offset(), size(),
                       required("prot", ArgKind::kProt, ArgField::kProt, "the new protection")},
                      [](T& t, const Op& o) -> int64_t {
                        return t.kernel().mprotect(t.mm(), t.cpu(), o.addr, o.len, o.prot);
                      }));
  ops.push_back(
      entry("mmap", "mmap", "mmap(2) of anonymous memory; the result is the address", kInProcess,
            {optional("at", ArgKind::kAddress, ArgField::kAddr, 0,
                      "where (MAP_FIXED on a free range); 0: the kernel picks"),
             size(), optional("prot", ArgKind::kProt, ArgField::kProt, kProtRw, "the protection"),
             optional("shared", ArgKind::kFlag, ArgField::kShared, 0, "MAP_SHARED")},
            [](T& t, const Op& o) -> int64_t {
              return t.kernel().mmap(t.mm(), t.cpu(), o.addr, o.len, o.prot, o.shared);
            }));
  ops.push_back(entry("mremap", "mremap",
                      "mremap(2) of the range to a fixed destination of the same size (UNMAP over "
                      "the old range)",
                      kInProcess,
                      {addr(), offset(), size(),
                       required("to", ArgKind::kAddress, ArgField::kAddr2, "the destination")},
                      [](T& t, const Op& o) -> int64_t {
                        return t.kernel().mremap(t.mm(), t.cpu(), o.addr, o.len, o.addr2);
                      }));
  ops.push_back(
      entry("fork", "fork",
            "fork(2): CHILD is a copy of the process (COW; PROTECTION_PAGE on the parent); "
            "no thread can run in it",
            kInProcess,
            {positional("CHILD", ArgKind::kNewProcess, ArgField::kMm2, "the child process",
                        "process", "")},
            [](T& t, const Op& o) -> int64_t { return t.kernel().fork(t.mm(), t.cpu(), o.mm2); }));
  ops.push_back(entry(
      "migrate", "migrate", "migrate the range's pages to new frames (MIGRATE)", kInProcess,
      {addr(), offset(), size(),
       owner_arg("the range's owner is this device's driver (migrate_vma by that driver); none "
                 "when not given")},
      [](T& t, const Op& o) -> int64_t {
        if (o.device != ThreadOp::kNoDevice && !t.sva()) return err::kEnodev;
        const void* owner = o.device == ThreadOp::kNoDevice ? nullptr : t.sva()->owner_of(o.device);
        return t.kernel().migrate(t.mm(), t.cpu(), o.addr, o.len, owner);
      }));
  ops.push_back(entry("compact", "compact",
                      "compaction moves the range's pages to new frames through the reverse map "
                      "(CLEAR; an rmap lock, not mmap_lock)",
                      kInProcess, {addr(), offset(), size()}, [](T& t, const Op& o) -> int64_t {
                        return t.kernel().compact(t.mm(), t.cpu(), o.addr, o.len);
                      }));
  ops.push_back(entry(
      "ksm", "ksm_merge",
      "KSM merge of the page at ADDR with the page at other_addr of process other: "
      "both write-protected, then merged when identical (CLEAR)",
      kInProcess,
      {addr(), offset(),
       required("other", ArgKind::kProcess, ArgField::kMm2, "the other page's process"),
       required("other_addr", ArgKind::kAddress, ArgField::kAddr2, "the other page's address")},
      [](T& t, const Op& o) -> int64_t {
        Kernel& k = t.kernel();
        return k.ksm_merge(t.mm(), o.addr, o.mm2 ? k.mm(o.mm2) : t.mm(), o.addr2, t.cpu());
      }));
  ops.push_back(entry(
      "clear_soft_dirty", "clear_soft_dirty",
      "clear the soft-dirty bits of the whole process (SOFT_DIRTY)", kInProcess, {},
      [](T& t, const Op&) -> int64_t { return t.kernel().clear_soft_dirty(t.mm(), t.cpu()); }));
  ops.push_back(entry("make_exclusive", "make_device_exclusive",
                      "make the page device-exclusive (EXCLUSIVE; the owner is this core unless "
                      "owner= names a device): the next CPU access faults and restores it",
                      kInProcess,
                      {addr(), offset(),
                       owner_arg("the range's owner is this device's driver (its "
                                 "make_device_exclusive); this core when not given")},
                      [](T& t, const Op& o) -> int64_t {
                        if (o.device != ThreadOp::kNoDevice && !t.sva()) return err::kEnodev;
                        const void* owner = o.device == ThreadOp::kNoDevice
                                                ? &t.core()
                                                : t.sva()->owner_of(o.device);
                        return t.kernel().make_device_exclusive(t.mm(), t.cpu(), o.addr, owner);
                      }));
  ops.push_back(entry("age", "clear_flush_young",
                      "page aging of one page: test and clear its accessed bit, flushing, and the "
                      "secondary TLBs' (clear_flush_young); the result is 1 when any was young",
                      kInProcess, {addr(), offset()}, [](T& t, const Op& o) -> int64_t {
                        return t.kernel().clear_flush_young(t.mm(), t.cpu(), o.addr);
                      }));
  ops.push_back(entry("bind", "bind",
                      "SVA bind of the thread's process to DEVICE (iommu_sva_bind_device): the "
                      "PASID entry, the notifier and the device's DMA threads of the process; the "
                      "result is the PASID, -EEXIST when already bound, -ENOSPC when none is free",
                      kInProcess, {device_arg()}, [](T& t, const Op& o) -> int64_t {
                        if (!t.sva()) return err::kEnodev;
                        return t.sva()->bind(t.program().mm_id, o.device, t.cpu());
                      }));
  ops.push_back(entry("unbind", "unbind",
                      "SVA unbind of the thread's process from DEVICE (iommu_sva_unbind_device): "
                      "clear the PASID entry, flush the PASID cache, IOTLB and device TLB, drain "
                      "the page requests, free the PASID after the last device; the result is 0, "
                      "-EINVAL when not bound",
                      kInProcess, {device_arg()}, [](T& t, const Op& o) -> int64_t {
                        if (!t.sva()) return err::kEnodev;
                        return t.sva()->unbind(t.program().mm_id, o.device, t.cpu());
                      }));
  ops.push_back(entry("flush_pasid", "flush_pasid",
                      "the driver flushes the process's PASID: PASID-selective IOTLB and "
                      "device-TLB invalidations on every device it is bound to, then waits; the "
                      "result is 0, -EINVAL without a PASID",
                      kInProcess, {}, [](T& t, const Op&) -> int64_t {
                        if (!t.sva()) return err::kEnodev;
                        return t.sva()->flush_pasid(t.program().mm_id, t.cpu());
                      }));
  ops.push_back(entry("flush_all", "flush_all",
                      "the driver flushes everything: global PASID-cache and IOTLB invalidations "
                      "and a device-TLB invalidation of every bound PASID on its devices, then "
                      "waits; the result is 0",
                      kOnThread, {}, [](T& t, const Op&) -> int64_t {
                        if (!t.sva()) return err::kEnodev;
                        return t.sva()->flush_all(t.cpu());
                      }));
  ops.push_back(
      entry("oom_reap", "oom_reap",
            "the OOM reaper tears down the private memory of process VICTIM (mm/oom_kill.c): "
            "mmap_read_trylock, per VMA a non-blockable UNMAP range (a -EAGAIN start skips the "
            "VMA, no end), up to 10 attempts 100 ms apart; the result is the attempts made, "
            "-EAGAIN when none reaped every VMA (counts in the stats under os.oom_reaper)",
            kOnThread,
            {positional("VICTIM", ArgKind::kProcess, ArgField::kMm2, "the victim process",
                        "process", "")},
            [](T& t, const Op& o) -> int64_t {
              const MmOps::OomReapResult r = t.kernel().oom_reap(t.kernel().mm(o.mm2), t.cpu());
              return r.reaped ? r.attempts : err::kEagain;
            }));
  ops.push_back(entry("exit", "exit",
                      "the thread leaves its process (mmput; the last user tears it down: RELEASE, "
                      "then UNMAP); the thread ends",
                      kInProcess, {}, [](T& t, const Op&) -> int64_t {
                        t.kernel().exit(t.mm(), t.cpu());
                        t.end();
                        return 0;
                      }));
  return ops;
}

// ---- decoding ----------------------------------------------------------------------

uint64_t decode_value(const OpArg& a, const ScriptValue& v, const std::string& key,
                      ScriptOperands& names) {
  switch (a.kind) {
    case ArgKind::kAddress:
      return names.address(v, key);
    case ArgKind::kOffset:
    case ArgKind::kInteger:
      return script_integer(v, key);
    case ArgKind::kPageBytes:
      return script_page_bytes(v, key);
    case ArgKind::kDuration:
      return script_duration_ps(v, key);
    case ArgKind::kProt:
      return script_prot(v, key);
    case ArgKind::kFlag:
      return script_flag(v, key) ? 1 : 0;
    case ArgKind::kProcess:
      return names.boot_process(v, key);
    case ArgKind::kNewProcess:
      return names.new_process(v);
    case ArgKind::kDevice:
      return names.device(v, key);
  }
  return 0;
}

void set_field(ThreadOp& op, const OpArg& a, uint64_t x) {
  switch (a.field) {
    case ArgField::kAddr:
      op.addr = a.kind == ArgKind::kOffset ? op.addr + x : x;
      break;
    case ArgField::kLen:
      op.len = x;
      break;
    case ArgField::kValue:
      op.value = x;
      break;
    case ArgField::kAddr2:
      op.addr2 = x;
      break;
    case ArgField::kMm2:
      op.mm2 = static_cast<uint32_t>(x);
      break;
    case ArgField::kProt:
      op.prot = static_cast<uint32_t>(x);
      break;
    case ArgField::kShared:
      op.shared = x != 0;
      break;
    case ArgField::kDurationNs:
      op.duration_ns = static_cast<double>(x) / 1000.0;  // from picoseconds
      break;
    case ArgField::kDevice:
      op.device = static_cast<size_t>(x);
      break;
  }
}

std::string operation_list() {
  std::string list;
  for (const CpuOperation& o : cpu_operations()) list += o.name + ", ";
  return list + "repeat";
}

}  // namespace

const std::vector<CpuOperation>& cpu_operations() {
  static const std::vector<CpuOperation> table = make_table();
  return table;
}

const CpuOperation* find_cpu_operation(const std::string& name) {
  for (const CpuOperation& o : cpu_operations()) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

ThreadOp decode_cpu_operation(const ScriptStatement& s, ScriptOperands& names) {
  const CpuOperation* op = find_cpu_operation(s.keyword);
  if (!op) {
    fail(s.loc, s.keyword,
         "unknown CPU operation '" + s.keyword + "' (expected one of: " + operation_list() + ")");
  }
  s.check_args(op->named_keys, op->positional_count);
  ThreadOp t;
  t.op = op;
  size_t index = 0;
  for (const OpArg& a : op->args) {
    if (a.positional) {
      const ScriptValue& v = s.at(index++, a.what.c_str());  // throws when missing
      set_field(t, a, decode_value(a, v, a.error_key, names));
    } else if (const ScriptValue* v = s.find(a.name)) {
      set_field(t, a, decode_value(a, *v, a.name, names));
    } else if (a.required) {
      s.value(a.name);  // throws "'op' needs the argument name=..."
    } else {
      set_field(t, a, a.default_value);
    }
  }
  return t;
}

uint32_t script_prot(const ScriptValue& v, const std::string& key) {
  const std::string p = script_symbol(v, key);
  if (p == "none") return kProtNone;
  if (p == "r") return kProtRead;
  if (p == "rw") return kProtRead | kProtWrite;
  if (p == "rx") return kProtRead | kProtExec;
  if (p == "rwx") return kProtRead | kProtWrite | kProtExec;
  fail(v.loc, key, "expected one of none, r, rw, rx, rwx, got '" + p + "'");
}

bool script_flag(const ScriptValue& v, const std::string& key) {
  const uint64_t x = script_integer(v, key);
  if (x > 1) fail(v.loc, key, "expected 0 or 1");
  return x == 1;
}

uint64_t script_page_bytes(const ScriptValue& v, const std::string& key) {
  const uint64_t n = script_integer(v, key);
  if (n == 0 || n % kPage) fail(v.loc, key, "expected a non-zero multiple of 4K");
  return n;
}

}  // namespace iosim
