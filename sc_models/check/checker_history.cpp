// Shared ground-truth history for the checkers.
#include "sc_models/check/checker_history.h"
#include "sc_models/memory/page_size.h"

#include <stdexcept>

namespace iosim {
namespace {

constexpr uint64_t kPageSizes[] = {kPageBytes, k2MiBPageBytes, k1GiBPageBytes};
constexpr uint64_t kPteAddressMask = 0x000ffffffffff000ull;

unsigned size_bit(uint64_t page_bytes) {
  for (unsigned i = 0; i < 3; ++i) {
    if (kPageSizes[i] == page_bytes) return 1u << i;
  }
  throw std::invalid_argument("PteChangeEvent.page_bytes must be 4 KiB, 2 MiB or 1 GiB, got " +
                              std::to_string(page_bytes));
}

}  // namespace

uint64_t PteVersion::frame_of(uint64_t va, uint64_t page_bytes) const {
  const uint64_t base = pte_raw & kPteAddressMask & ~(page_bytes - 1);
  return (base + (va & (page_bytes - 1))) & kCheckerFrameMask;
}

std::string PteVersion::describe(uint64_t va, uint64_t page_bytes) const {
  if (!present()) return "not present";
  return "frame " + hex(frame_of(va, page_bytes)) + (writable() ? " RW" : " RO");
}

int PageHistory::version_in_effect(const sc_core::sc_time& t) const {
  for (int i = static_cast<int>(versions.size()) - 1; i >= 0; --i) {
    if (versions[i].since <= t) return i;
  }
  return -1;
}

int PageHistory::version_at(const sc_core::sc_time& t, uint64_t frame, uint64_t access_va) const {
  const int newest = version_in_effect(t);
  if (newest < 0) return -1;
  // Several versions written at the same time as the translation: the walk saw one
  // of them; take the one that maps the frame it returned.
  for (int i = newest; i >= 0 && versions[i].since == versions[newest].since; --i) {
    const PteVersion& v = versions[i];
    if (v.present() && v.frame_of(access_va, page_bytes) == frame) return i;
  }
  return newest;
}

void PageHistory::append_changes(const sc_core::sc_time& from, const sc_core::sc_time& until,
                                 std::vector<ViolationStep>& steps) const {
  for (size_t i = truncated ? 0 : 1; i < versions.size(); ++i) {
    const PteVersion& v = versions[i];
    if (v.since < from || v.since > until) continue;
    steps.push_back({v.since, "PTE of VA " + hex(va) + " (mm " + std::to_string(mm_id) +
                                  ") changed to " + v.describe(va, page_bytes) + " (" + v.reason +
                                  ")"});
    if (v.cpu_written && v.write_time <= until) {
      steps.push_back({v.write_time, v.write_thread + " wrote " + hex(v.write_value) +
                                         " to the new page, frame " +
                                         hex(v.frame_of(va, page_bytes))});
    }
  }
}

CheckerHistory::CheckerHistory(const CheckerConfig& cfg)
    : cfg_(cfg), pasid_chunks_(kPasidLimit >> kChunkShift) {
  cfg_.validate();
}

void CheckerHistory::bind_pasid(uint32_t pasid, uint32_t mm_id) {
  last_binding_ = {};
  const Binding b{mm_id, true, {}};  // a fresh page memo: the mm may differ
  if (pasid >= kPasidLimit) {
    wide_bindings_[pasid] = b;
    return;
  }
  auto& chunk = pasid_chunks_[pasid >> kChunkShift];
  if (!chunk) chunk = std::make_unique<Chunk>();
  (*chunk)[pasid & (kChunkSize - 1)] = b;
}

void CheckerHistory::unbind_pasid(uint32_t pasid) {
  last_binding_ = {};
  if (pasid >= kPasidLimit) {
    wide_bindings_.erase(pasid);
    return;
  }
  if (auto& chunk = pasid_chunks_[pasid >> kChunkShift]) {
    (*chunk)[pasid & (kChunkSize - 1)] = {};
  }
}

CheckerHistory::Binding* CheckerHistory::find_binding(uint32_t pasid) const {
  Binding* b = nullptr;
  if (pasid < kPasidLimit) {
    if (const auto& chunk = pasid_chunks_[pasid >> kChunkShift]) {
      Binding& e = (*chunk)[pasid & (kChunkSize - 1)];
      if (e.bound) b = &e;
    }
  } else if (auto it = wide_bindings_.find(pasid); it != wide_bindings_.end()) {
    b = &it->second;
  }
  last_binding_ = {true, pasid, b};
  return b;
}

PageHistory* CheckerHistory::find_page(uint32_t mm_id, uint64_t va) {
  const uint64_t vpn = va >> kPageShift;
  if (last_page_.generation == page_generation_ && last_page_.mm_id == mm_id &&
      last_page_.vpn == vpn) {
    return last_page_.page;
  }
  PageHistory* best = nullptr;
  for (unsigned i = 0; i < 3; ++i) {
    if (!(page_sizes_seen_ & (1u << i))) continue;
    auto it = pages_.find({mm_id, va & ~(kPageSizes[i] - 1), kPageSizes[i]});
    if (it == pages_.end()) continue;
    if (!best || best->current().since < it->second.current().since) best = &it->second;
  }
  last_page_ = {page_generation_, mm_id, vpn, best};
  return best;
}

const PageHistory* CheckerHistory::page_of_pasid(uint32_t pasid, uint64_t va) const {
  Binding* b = binding(pasid);
  if (!b) return nullptr;
  const uint64_t vpn = va >> kPageShift;
  PageMemo& memo = b->page;
  if (memo.generation == page_generation_ && memo.vpn == vpn) return memo.page;
  PageHistory* p = const_cast<CheckerHistory*>(this)->find_page(b->mm_id, va);
  memo = {page_generation_, b->mm_id, vpn, p};
  return p;
}

const PageHistory* CheckerHistory::page(uint32_t mm_id, uint64_t va) const {
  return const_cast<CheckerHistory*>(this)->find_page(mm_id, va);
}

const FrameHistory* CheckerHistory::frame(uint64_t pa) const {
  auto it = frames_.find(pa & kCheckerFrameMask);
  return it == frames_.end() ? nullptr : &it->second;
}

void CheckerHistory::on_pte_change(const PteChangeEvent& e) {
  ++page_generation_;
  page_sizes_seen_ |= size_bit(e.page_bytes);
  const PageKey key{e.mm_id, e.va & ~(e.page_bytes - 1), e.page_bytes};
  auto [it, inserted] = pages_.try_emplace(key);
  PageHistory& h = it->second;
  if (inserted) {
    h.mm_id = key.mm_id;
    h.va = key.va;
    h.page_bytes = key.page_bytes;
    inherit_from_larger(h);
  }
  if (h.versions.empty()) {
    PteVersion initial;
    initial.pte_raw = e.old_pte_raw;
    initial.reason = "initial";
    h.versions.push_back(std::move(initial));
  }
  PteVersion v;
  v.since = e.time;
  v.pte_raw = e.new_pte_raw;
  v.reason = e.reason;
  h.versions.push_back(std::move(v));
  while (h.versions.size() > cfg_.pte_versions_per_page) {
    h.versions.pop_front();
    h.truncated = true;
  }
}

bool CheckerHistory::inherit_from_larger(PageHistory& h) const {
  // The smallest larger page recorded that contains this one: its versions are this
  // page's past (a split publishes the huge leaf's clear, then the smaller leaves).
  for (unsigned i = 0; i < 3; ++i) {
    const uint64_t bytes = kPageSizes[i];
    if (bytes <= h.page_bytes || !(page_sizes_seen_ & (1u << i))) continue;
    auto it = pages_.find({h.mm_id, h.va & ~(bytes - 1), bytes});
    if (it == pages_.end()) continue;
    const PageHistory& big = it->second;
    h.truncated = big.truncated;
    for (const PteVersion& v : big.versions) {
      PteVersion mine = v;
      if (v.present()) {
        // The same frame and flags as a leaf of this size (no PS bit for 4 KiB).
        const uint64_t flags =
            v.pte_raw & ~kPteAddressMask & ~(h.page_bytes == kPageBytes ? 0x80 : 0);
        mine.pte_raw = (v.frame_of(h.va, bytes) & ~(h.page_bytes - 1)) | flags;
      }
      h.versions.push_back(std::move(mine));
    }
    return !h.versions.empty();
  }
  return false;
}

void CheckerHistory::on_frame(const FrameEvent& e) {
  if (e.allocated) {
    auto it = frames_.find(e.frame_pa & kCheckerFrameMask);
    if (it == frames_.end()) return;  // only frames that were freed matter
    it->second.allocated = true;
    it->second.reallocated = true;
    it->second.last_alloc = e.time;
    return;
  }
  FrameHistory& f = frames_[e.frame_pa & kCheckerFrameMask];
  f.freed = true;
  f.last_free = e.time;
  f.allocated = false;
  f.reallocated = false;
}

void CheckerHistory::on_cpu_access(const CpuAccessEvent& e) {
  if (!e.is_write || pages_.empty()) return;
  PageHistory* h = find_page(e.mm_id, e.va);
  if (!h) return;
  PteVersion& cur = h->versions.back();
  if (cur.cpu_written || !cur.present()) return;
  if (cur.frame_of(e.va, h->page_bytes) != (e.pa & kCheckerFrameMask)) return;
  cur.cpu_written = true;
  cur.write_time = e.time;
  cur.write_thread = e.thread;
  cur.write_value = e.value;
}

void CheckerHistory::push_invalidation(InvalList& list, const InvalidationRecord& r) {
  list.push_back(r);
  while (list.size() > cfg_.invalidations_per_pasid) list.pop_front();
}

void CheckerHistory::on_invalidation_done(const InvalidationDoneEvent& e) {
  const InvalidationRecord r{e.time, e.mm_id, e.pasid, e.start, e.end};
  if (e.pasid == DeviceAccessEvent::kNoPasid) {
    push_invalidation(inval_by_mm_[e.mm_id], r);
  } else {
    push_invalidation(inval_by_pasid_[e.pasid], r);
  }
}

const InvalidationRecord* CheckerHistory::newest_covering(const InvalList* list, uint64_t va) {
  if (!list) return nullptr;
  for (auto it = list->rbegin(); it != list->rend(); ++it) {
    if (it->covers(va)) return &*it;
  }
  return nullptr;
}

const InvalidationRecord* CheckerHistory::latest_invalidation(uint32_t pasid, uint64_t va) const {
  auto p = inval_by_pasid_.find(pasid);
  const InvalidationRecord* best =
      newest_covering(p == inval_by_pasid_.end() ? nullptr : &p->second, va);
  if (const uint32_t* mm = mm_of(pasid)) {
    auto m = inval_by_mm_.find(*mm);
    const InvalidationRecord* wide =
        newest_covering(m == inval_by_mm_.end() ? nullptr : &m->second, va);
    if (wide && (!best || best->time < wide->time)) best = wide;
  }
  return best;
}

}  // namespace iosim
