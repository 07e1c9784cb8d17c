// LogBuffer: an AMD-Vi log in memory (AMD IOMMU specification #48882, 2.5 and 2.6): the
// event log (16-byte EventEntries) and the peripheral page request (PPR) log (16-byte
// PprLogEntries) are two instances. The IOMMU writes entries at the tail; software
// consumes them from the head.
//
// Registers: the base register (3.4.3, 3.4.9: address 51:12, Len 59:56, 2^Len entries),
// head and tail (byte offsets, bits 18:4). Software may set the tail only while the log
// is disabled (Linux zeroes head and tail before enabling); the head always.
//
// Running (Status.EventLogRun / PPRLogRun): the log runs from the moment its enable
// (Control.EventLogEn / PPRLogEn, with IommuEn) goes from 0 to 1. An entry that finds
// the log full (advancing the tail would reach the head) is lost, the log stops running
// and the `overflow` hook sets Status.EventOverflow / PPROverflow (2.5, 2.6: logging
// stops on overflow until software re-enables the log; Linux amd_iommu_restart_log clears
// the overflow bit and toggles the enable). Entries pushed while the log is not running
// are discarded. A lost or discarded entry runs its `lost` callback (the PPR log answers a
// lost last request there).
//
// push() hands an entry over with its arrival time; entries are formatted (write latency:
// page_request_queue.write_latency_ns, reused for both logs) and written in arrival order
// by the core's QueueWriter (iommu/queue_writer.h); when the write has completed the tail
// advances and the `written` hook sets the log's interrupt status.
//
// Simplification: a failed log write is not reported.
#pragma once

#include <systemc>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "iommu/memory_port.h"
#include "iommu/queue_writer.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"

namespace iosim::amdvi {

class LogBuffer : public sc_core::sc_module {
 public:
  using Entry = std::array<uint64_t, 2>;

  struct Hooks {
    std::function<void()> overflow;  // the log overflowed (and stopped)
    std::function<void()> written;   // an entry is in memory
  };

  LogBuffer(sc_core::sc_module_name name, SimContext& ctx, const sc_core::sc_time& write_latency,
            MemoryPort& mem, Hooks hooks);

  // --- Registers ---
  void write_base(uint64_t v);
  uint64_t base_reg() const { return base_reg_; }
  void write_head(uint64_t v);
  void write_tail(uint64_t v);
  uint64_t head() const { return head_; }
  uint64_t tail() const { return tail_; }
  uint64_t bytes() const { return bytes_; }
  void set_enabled(bool on);
  bool running() const { return running_; }

  // An entry arriving at sc_time_stamp() + delay; `lost` runs if it is not written.
  void push(const Entry& e, const sc_core::sc_time& delay, std::function<void()> lost = {});

  uint64_t written() const { return written_.value(); }
  uint64_t lost() const { return lost_.value(); }

 private:
  struct Pending {
    Entry entry{};
    std::function<void()> lost;
  };
  std::optional<uint64_t> place(const Pending& p);
  void drop(const Pending& p, bool overflow);

  Hooks hooks_;
  uint64_t base_reg_ = 0, base_ = 0, bytes_ = 4096;
  uint64_t head_ = 0, tail_ = 0;
  bool enabled_ = false, running_ = false;

  Counter& written_;
  Counter& lost_;
  Counter& discarded_;
  Average& depth_;
  Histogram& latency_;
  QueueWriter<Pending> writer_;  // last: its hooks use the members above
};

}  // namespace iosim::amdvi
