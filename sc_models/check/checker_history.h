// Shared ground-truth history the four checkers read.
//
// A GroundTruthSink subscribed before the checkers. It keeps, with O(1) work per
// event:
// - per (mm, page VA, page size): the last few PTE values with the time each was
//   written, and for each the first CPU write that reached the frame it maps while
//   it was the current PTE (a "newer write" to that page);
// - per 4 KiB frame: last free and last allocation;
// - per PASID (and per mm for mm-wide invalidations): the last completed
//   invalidations, newest last;
// - the PASID -> mm binding, registered by whoever binds (the driver).
//
// A huge leaf changes as one page of its size; the first change of a smaller page inside
// a recorded larger one (a split) starts with the larger page's versions, so a
// translation obtained from the huge leaf is judged against the small page's history.
//
// Simplifications: histories are bounded (CheckerConfig); a large page's free must
// be published as its 4 KiB frames; a CPU write counts towards a page only when it
// is made through that mm's mapping of it.
#pragma once

#include "sc_models/check/checker.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/memory/page_size.h"

#include <systemc>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace iosim {

constexpr uint64_t kCheckerFrameMask = kPageMask;

// One value a PTE held from `since` until the next version.
struct PteVersion {
  sc_core::sc_time since;  // zero for the value before the first recorded change
  uint64_t pte_raw = 0;
  std::string reason;        // reason of the change that wrote it ("initial" for the first)
  bool cpu_written = false;  // a CPU write reached the mapped frame while current
  sc_core::sc_time write_time;
  std::string write_thread;
  uint64_t write_value = 0;

  bool present() const { return pte_raw & 1; }
  bool writable() const { return (pte_raw & 3) == 3; }
  // 4 KiB frame this version maps `va` to (only meaningful when present).
  uint64_t frame_of(uint64_t va, uint64_t page_bytes) const;
  std::string describe(uint64_t va, uint64_t page_bytes) const;
};

struct PageHistory {
  uint32_t mm_id = 0;
  uint64_t va = 0;  // aligned to page_bytes
  uint64_t page_bytes = kPageBytes;
  bool truncated = false;           // older versions were forgotten
  std::deque<PteVersion> versions;  // oldest first, never empty

  const PteVersion& current() const { return versions.back(); }
  // Index of the version a translation obtained at `t` that maps `frame` came
  // from: the newest version written at or before `t`, preferring one that maps
  // `frame`; -1 when the history no longer reaches back to `t`.
  int version_at(const sc_core::sc_time& t, uint64_t frame, uint64_t va) const;
  // Index of the newest version written at or before `t` (-1 if forgotten).
  int version_in_effect(const sc_core::sc_time& t) const;
  // Appends one step per PTE change written in [from, until] and, for the newest
  // such version, the CPU write that reached its frame (if any, up to `until`).
  void append_changes(const sc_core::sc_time& from, const sc_core::sc_time& until,
                      std::vector<ViolationStep>& steps) const;
};

struct FrameHistory {
  bool freed = false;  // has been freed at least once
  sc_core::sc_time last_free;
  bool allocated = false;    // currently allocated
  bool reallocated = false;  // allocated again after the last free
  sc_core::sc_time last_alloc;
};

struct InvalidationRecord {
  sc_core::sc_time time;
  uint32_t mm_id;
  uint32_t pasid;  // kNoPasid for an mm-wide invalidation
  uint64_t start;
  uint64_t end;
  bool covers(uint64_t va) const { return va >= start && va < end; }
};

class CheckerHistory : public GroundTruthSink {
 public:
  explicit CheckerHistory(const CheckerConfig& cfg);

  // Device accesses tagged `pasid` use the page tables of `mm_id` (rebinding
  // replaces the earlier binding).
  void bind_pasid(uint32_t pasid, uint32_t mm_id);
  void unbind_pasid(uint32_t pasid);
  // nullptr when `pasid` is not bound. Inline: every checker asks for every access.
  const uint32_t* mm_of(uint32_t pasid) const {
    const Binding* b = binding(pasid);
    return b ? &b->mm_id : nullptr;
  }
  // page(*mm_of(pasid), va), or nullptr when `pasid` is not bound: what the checkers
  // check a device access against. The answer is remembered per PASID (a device's
  // accesses to a page come in runs, interleaved with other PASIDs' runs) until a PTE
  // changes or the PASID is bound again.
  const PageHistory* page_of_pasid(uint32_t pasid, uint64_t va) const;

  // History of the page of `mm_id` containing `va` (the most recently changed
  // one when several page sizes were recorded), nullptr when its PTE never changed.
  const PageHistory* page(uint32_t mm_id, uint64_t va) const;
  const FrameHistory* frame(uint64_t pa) const;
  // The newest completed invalidation covering (`pasid`, `va`): one for that PASID
  // or an mm-wide one for the mm it is bound to. nullptr when none is remembered.
  const InvalidationRecord* latest_invalidation(uint32_t pasid, uint64_t va) const;

  void on_pte_change(const PteChangeEvent& e) override;
  void on_frame(const FrameEvent& e) override;
  void on_cpu_access(const CpuAccessEvent& e) override;
  void on_invalidation_done(const InvalidationDoneEvent& e) override;

 private:
  struct PageKey {
    uint32_t mm_id;
    uint64_t va;
    uint64_t page_bytes;
    bool operator==(const PageKey& o) const {
      return mm_id == o.mm_id && va == o.va && page_bytes == o.page_bytes;
    }
  };
  struct PageKeyHash {
    size_t operator()(const PageKey& k) const {
      return std::hash<uint64_t>()(k.va ^ (uint64_t{k.mm_id} << 52) ^ k.page_bytes);
    }
  };
  using InvalList = std::deque<InvalidationRecord>;

  PageHistory* find_page(uint32_t mm_id, uint64_t va);
  // Seeds a new page's history with the versions of a larger page recorded around it
  // (the huge leaf a split replaced), each as this page's part of it; false when none.
  bool inherit_from_larger(PageHistory& h) const;
  void push_invalidation(InvalList& list, const InvalidationRecord& r);
  static const InvalidationRecord* newest_covering(const InvalList* list, uint64_t va);

  struct PageMemo {
    uint64_t generation = 0;  // page_generation_ when filled; 0: never
    uint32_t mm_id = 0;
    uint64_t vpn = 0;  // va >> kPageShift
    PageHistory* page = nullptr;
  };
  struct Binding {
    uint32_t mm_id = 0;
    bool bound = false;
    PageMemo page;  // page_of_pasid()'s last answer for this PASID
  };
  struct LastBinding {
    bool valid = false;
    uint32_t pasid = 0;
    Binding* binding = nullptr;
  };
  // The binding of `pasid`, nullptr when unbound; the last answer first (the
  // checkers ask in turn about the same access).
  Binding* binding(uint32_t pasid) const {
    if (last_binding_.valid && last_binding_.pasid == pasid) return last_binding_.binding;
    return find_binding(pasid);
  }
  // binding() when the last answer was for another PASID (out of line: the checkers'
  // frames stay small).
  Binding* find_binding(uint32_t pasid) const;

  // First and together (a line or two the checkers touch on every access): the last
  // binding asked for, find_page()'s last answer (CPU accesses, and PASIDs whose own
  // memo missed) and the PTE change count that invalidates the remembered pages (any
  // change may add a page or change which one is newest; pages are never erased).
  mutable LastBinding last_binding_;
  PageMemo last_page_;
  uint64_t page_generation_ = 1;

  CheckerConfig cfg_;
  // PASID -> binding: a table indexed by the 20-bit PASID (one index per access, where
  // a hash lookup would reach scattered memory), in chunks allocated when a PASID of
  // the chunk is first bound; larger values (not PCIe PASIDs) in a map.
  static constexpr uint32_t kPasidLimit = 1u << 20;
  static constexpr unsigned kChunkShift = 10;
  static constexpr uint32_t kChunkSize = 1u << kChunkShift;
  using Chunk = std::array<Binding, kChunkSize>;
  std::vector<std::unique_ptr<Chunk>> pasid_chunks_;  // kPasidLimit >> kChunkShift
  mutable std::unordered_map<uint32_t, Binding> wide_bindings_;
  std::unordered_map<PageKey, PageHistory, PageKeyHash> pages_;
  unsigned page_sizes_seen_ = 0;  // bit 0: 4 KiB, bit 1: 2 MiB, bit 2: 1 GiB
  std::unordered_map<uint64_t, FrameHistory> frames_;
  std::unordered_map<uint32_t, InvalList> inval_by_pasid_;
  std::unordered_map<uint32_t, InvalList> inval_by_mm_;
};

}  // namespace iosim
