// QueueWriter: how an IOMMU writes records into one of its queues in memory, the
// same for every architecture: VT-d's page request queue, SMMUv3's event and PRI
// queues. The queue (the owner) decides where a record goes and keeps its pointers and
// statistics; the writer keeps the order and the timing.
//
// Records arriving from requesters (push(), with their arrival time) are taken in
// arrival order, one at a time. At its turn a record is placed by the queue: it names
// the address to write it to, or drops it (queue disabled, full: the queue counts it
// and does what its architecture does with a lost record). A placed record is
// formatted (write_latency) and written through memory; when the write has completed,
// the queue's written() advances its producer pointer and raises its interrupt.
//
// The writer is a method that runs at each of those instants (the record taken, the
// memory write issued, the write completed), woken by timed notifications: no thread
// wakes at the arrival to wait for the formatting and then for the write. The write is
// issued ahead of the current time by the formatting time when no other process can
// run before it ends (Timing::may_keep): the memory takes it at its own time, and
// nothing here wakes another process before the completion's timed notification.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>

#include "iommu/memory_port.h"
#include "sc_models/sim/spawn.h"
#include "sc_models/timing/local_time.h"

namespace iosim {

template <class Record>
class QueueWriter {
 public:
  struct Queue {
    // At the record's turn: the address to write it to, or nullopt when it is dropped.
    std::function<std::optional<uint64_t>(const Record&)> place;
    // The record's bytes (at most 32) into `bytes`; returns their number.
    std::function<unsigned(const Record&, uint8_t* bytes)> encode;
    // The record is in memory (now); it arrived at `arrival`.
    std::function<void(const Record&, const sc_core::sc_time& arrival)> written;
  };

  // Spawns its method ("step") in the module under construction (the queue).
  QueueWriter(MemoryPort& mem, const sc_core::sc_time& write_latency, Queue queue)
      : mem_(mem), write_latency_(write_latency), queue_(std::move(queue)) {
    spawn_method_on(wake_, "step", [this] { step(); });
  }

  // A record arriving at sc_time_stamp() + delay.
  void push(Record r, const sc_core::sc_time& delay) {
    arrivals_.push_back({sc_core::sc_time_stamp() + delay, std::move(r)});
    if (phase_ == Phase::kIdle) {
      phase_ = Phase::kTake;
      wake_at(arrivals_.front().time);
    }
  }

 private:
  struct Arrival {
    sc_core::sc_time time;
    Record record;
  };
  // Where the writer is; step() runs at the instant each phase starts.
  enum class Phase { kIdle, kTake, kWrite, kDone };

  void step() {
    switch (phase_) {
      case Phase::kTake:
        take();
        break;
      case Phase::kWrite:
        write(sc_core::SC_ZERO_TIME);
        break;
      case Phase::kDone:
        complete();
        break;
      case Phase::kIdle:
        break;
    }
  }

  // The front record at the current time: dropped, or its write begun.
  void take() {
    current_ = std::move(arrivals_.front());
    arrivals_.pop_front();
    const std::optional<uint64_t> at = queue_.place(current_.record);
    if (!at) {
      next();
      return;
    }
    address_ = *at;
    phase_ = Phase::kWrite;
    if (write_latency_ == sc_core::SC_ZERO_TIME || mem_.timing().may_keep(write_latency_)) {
      write(write_latency_);
    } else {
      wake_.notify(write_latency_);
    }
  }

  // Writes the record `ahead` of the current time (zero, or a time no other process
  // can run before: take() asked Timing::may_keep).
  void write(const sc_core::sc_time& ahead) {
    uint8_t bytes[32] = {};
    const unsigned n = queue_.encode(current_.record, bytes);
    sc_core::sc_time d = ahead;
    {
      const Timing::KeepAhead scope(mem_.timing());  // the port keeps `ahead`
      mem_.write(address_, bytes, n, d);
    }
    phase_ = Phase::kDone;
    if (d > sc_core::SC_ZERO_TIME) {
      wake_.notify(d);  // the record is in place when the write completes
    } else {
      complete();
    }
  }

  void complete() {
    queue_.written(current_.record, current_.time);
    next();
  }

  // Takes the next record now or wakes step() at its arrival; idle when none.
  void next() {
    if (arrivals_.empty()) {
      phase_ = Phase::kIdle;
      return;
    }
    phase_ = Phase::kTake;
    if (arrivals_.front().time > sc_core::sc_time_stamp()) {
      wake_at(arrivals_.front().time);
    } else {
      take();
    }
  }

  void wake_at(const sc_core::sc_time& t) {
    // Even at the current time: the record is taken in a later delta cycle, as a
    // thread woken by the arrival would.
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    wake_.notify(t > now ? t - now : sc_core::SC_ZERO_TIME);
  }

  MemoryPort& mem_;
  sc_core::sc_time write_latency_;
  Queue queue_;
  std::deque<Arrival> arrivals_;
  Phase phase_ = Phase::kIdle;
  Arrival current_{};  // the record being written
  uint64_t address_ = 0;
  sc_core::sc_event wake_;
};

}  // namespace iosim
