#include "os/vma.h"

#include <algorithm>
#include <stdexcept>

namespace iosim {

const Vma* VmaList::find(uint64_t va) const {
  auto it = vmas_.upper_bound(va);
  if (it == vmas_.begin()) return nullptr;
  --it;
  return it->second.contains(va) ? &it->second : nullptr;
}

bool VmaList::covered(uint64_t start, uint64_t end) const {
  uint64_t at = start;
  while (at < end) {
    const Vma* v = find(at);
    if (!v) return false;
    at = v->end;
  }
  return true;
}

bool VmaList::overlaps(uint64_t start, uint64_t end) const {
  return !in_range(start, end).empty();
}

uint64_t VmaList::find_free(uint64_t len) const {
  uint64_t at = kMmapBase;
  for (const auto& [s, v] : vmas_) {
    if (v.end <= at) continue;
    if (s >= at && s - at >= len) return at;
    at = std::max(at, v.end);
  }
  return at;
}

void VmaList::insert(const Vma& v) {
  if (v.start >= v.end) throw std::invalid_argument("VMA with start >= end");
  if (overlaps(v.start, v.end)) throw std::invalid_argument("VMA overlaps an existing VMA");
  vmas_[v.start] = v;
}

void VmaList::split_at(uint64_t addr) {
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return;
  --it;
  Vma& v = it->second;
  if (addr <= v.start || addr >= v.end) return;
  Vma tail = v;
  tail.start = addr;
  v.end = addr;
  vmas_[addr] = tail;
}

std::vector<Vma> VmaList::remove(uint64_t start, uint64_t end) {
  split_at(start);
  split_at(end);
  std::vector<Vma> out;
  for (auto it = vmas_.lower_bound(start); it != vmas_.end() && it->first < end;) {
    out.push_back(it->second);
    it = vmas_.erase(it);
  }
  return out;
}

void VmaList::protect(uint64_t start, uint64_t end, uint32_t prot) {
  split_at(start);
  split_at(end);
  for (auto it = vmas_.lower_bound(start); it != vmas_.end() && it->first < end; ++it) {
    it->second.prot = prot;
  }
}

void VmaList::set_hugepage(uint64_t start, uint64_t end, bool on) {
  split_at(start);
  split_at(end);
  for (auto it = vmas_.lower_bound(start); it != vmas_.end() && it->first < end; ++it) {
    it->second.hugepage = on;
  }
}

std::vector<Vma> VmaList::in_range(uint64_t start, uint64_t end) const {
  std::vector<Vma> out;
  auto it = vmas_.upper_bound(start);
  if (it != vmas_.begin()) --it;
  for (; it != vmas_.end() && it->first < end; ++it) {
    Vma v = it->second;
    if (v.end <= start) continue;
    v.start = std::max(v.start, start);
    v.end = std::min(v.end, end);
    out.push_back(v);
  }
  return out;
}

std::vector<Vma> VmaList::all() const {
  std::vector<Vma> out;
  for (const auto& [s, v] : vmas_) out.push_back(v);
  return out;
}

}  // namespace iosim
