// x86-64 4-level page tables: entry codec, functional walk and the OS-side editor.
#include "sc_models/page_table/page_table.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

#include "sc_models/memory/physical_memory.h"

namespace iosim {

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Page size mapped by a leaf at `level` (1..3).
PageSize size_at_level(int level) {
  assert(level >= kPtLevel && level <= kPdptLevel);
  return level == kPtLevel ? PageSize::k4K : level == kPdLevel ? PageSize::k2M : PageSize::k1G;
}

// The canonical VA of a 48-bit VA offset (bit 47 extended into 63:48).
uint64_t canonical_of(uint64_t offset) {
  return (offset >> 47) ? offset | (~uint64_t{0} << 48) : offset;
}

bool entry_in_memory(const PhysicalMemory& mem, uint64_t entry_addr) {
  return entry_addr < mem.size_bytes() && mem.size_bytes() - entry_addr >= 8;
}

}  // namespace

const char* page_size_name(PageSize s) {
  switch (s) {
    case PageSize::k4K:
      return "4K";
    case PageSize::k2M:
      return "2M";
    case PageSize::k1G:
      return "1G";
  }
  return "?";
}

const char* walk_status_name(WalkStatus s) {
  switch (s) {
    case WalkStatus::kOk:
      return "ok";
    case WalkStatus::kNotPresent:
      return "not-present";
    case WalkStatus::kReservedBit:
      return "reserved-bit";
    case WalkStatus::kNonCanonical:
      return "non-canonical";
    case WalkStatus::kBadAddress:
      return "bad-address";
  }
  return "?";
}

// ----------------------------------------------------------------------------
// Pte

Pte Pte::table(uint64_t table_pa, uint64_t flags) {
  if (table_pa & ~kAddressMask) {
    throw std::invalid_argument("Pte::table: table address " + hex(table_pa) +
                                " is not a 4 KiB aligned 52-bit physical address");
  }
  if (flags & kAddressMask) {
    throw std::invalid_argument("Pte::table: flags " + hex(flags) + " overlap the address field");
  }
  return Pte(table_pa | (flags & ~kPageSize) | kPresent);
}

Pte Pte::leaf(uint64_t pa, PageSize size, uint64_t flags) {
  if ((pa & ~kAddressMask) || (pa & page_offset_mask(size))) {
    throw std::invalid_argument("Pte::leaf: physical address " + hex(pa) + " is not a " +
                                page_size_name(size) + "-aligned 52-bit address");
  }
  if (flags & kAddressMask) {
    throw std::invalid_argument("Pte::leaf: flags " + hex(flags) + " overlap the address field");
  }
  uint64_t raw = pa | (flags & ~kPageSize) | kPresent;
  if (size != PageSize::k4K) raw |= kPageSize;
  return Pte(raw);
}

// ----------------------------------------------------------------------------
// Functional walk

WalkResult walk(const PhysicalMemory& mem, uint64_t root_pa, uint64_t va) {
  WalkResult r;
  if (!is_canonical(va)) return r;  // status kNonCanonical, nothing read
  bool writable = true, user = true, no_execute = false;
  uint64_t table = root_pa & Pte::kAddressMask;
  for (int level = kPml4Level; level >= kPtLevel; --level) {
    const uint64_t ea = entry_address(table, va, level);
    if (!entry_in_memory(mem, ea)) {
      r.status = WalkStatus::kBadAddress;
      r.fault_level = level;
      return r;
    }
    const Pte e(mem.read_u64(ea));
    r.entry_addrs[r.num_reads] = ea;
    r.entries[r.num_reads] = e;
    ++r.num_reads;
    if (!e.present()) {
      r.status = WalkStatus::kNotPresent;
      r.fault_level = level;
      return r;
    }
    if (level == kPml4Level && e.page_size_bit()) {
      r.status = WalkStatus::kReservedBit;
      r.fault_level = level;
      return r;
    }
    writable = writable && e.writable();
    user = user && e.user();
    no_execute = no_execute || e.no_execute();
    if (e.is_leaf_at(level)) {
      r.status = WalkStatus::kOk;
      r.size = size_at_level(level);
      r.leaf = e;
      r.leaf_addr = ea;
      r.pa = e.page_address(r.size) | (va & page_offset_mask(r.size));
      r.writable = writable;
      r.user = user;
      r.no_execute = no_execute;
      return r;
    }
    table = e.table_address();
  }
  assert(false && "a PT-level entry is always a leaf");
  return r;
}

std::optional<uint64_t> find_entry_address(const PhysicalMemory& mem, uint64_t root_pa, uint64_t va,
                                           int level) {
  if (level < kPtLevel || level > kPml4Level) {
    throw std::invalid_argument("find_entry_address: level " + std::to_string(level) +
                                " is not 1..4");
  }
  if (!is_canonical(va)) return std::nullopt;
  uint64_t table = root_pa & Pte::kAddressMask;
  for (int l = kPml4Level; l > level; --l) {
    const uint64_t ea = entry_address(table, va, l);
    if (!entry_in_memory(mem, ea)) return std::nullopt;
    const Pte e(mem.read_u64(ea));
    if (!e.present() || e.page_size_bit()) return std::nullopt;
    table = e.table_address();
  }
  return entry_address(table, va, level);
}

// ----------------------------------------------------------------------------
// PageTableEditor

PageTableEditor::PageTableEditor(PhysicalMemory& mem, FrameAllocator alloc)
    : mem_(mem), alloc_(std::move(alloc)) {
  if (!alloc_) throw std::invalid_argument("PageTableEditor: no frame allocator");
}

uint64_t PageTableEditor::alloc_table() {
  const uint64_t pa = alloc_();
  if ((pa & (kTableBytes - 1)) || pa >= mem_.size_bytes()) {
    throw std::invalid_argument("PageTableEditor: frame allocator returned " + hex(pa) +
                                ", not a 4 KiB aligned frame inside memory");
  }
  mem_.zero_frame(pa);
  ++tables_allocated_;
  return pa;
}

uint64_t PageTableEditor::new_root() {
  return alloc_table();
}

PageTableEditor::Slot PageTableEditor::descend(uint64_t root, uint64_t va) const {
  uint64_t table = root & Pte::kAddressMask;
  for (int level = kPml4Level;; --level) {
    const uint64_t ea = entry_address(table, va, level);
    const Pte e(mem_.read_u64(ea));
    if (level == kPml4Level && e.present() && e.page_size_bit()) {
      throw std::invalid_argument("PageTableEditor: PML4 entry at " + hex(ea) +
                                  " has the reserved PS bit set");
    }
    if (!e.present() || e.is_leaf_at(level)) {
      Slot s{ea, e, level, PageSize::k4K};
      if (level <= kPdptLevel) s.size = size_at_level(level);
      return s;
    }
    table = e.table_address();
  }
}

Pte PageTableEditor::map(uint64_t root, uint64_t va, uint64_t pa, PageSize size, uint64_t flags) {
  if (!is_canonical(va)) throw std::invalid_argument("map: VA " + hex(va) + " is not canonical");
  if (va & page_offset_mask(size)) {
    throw std::invalid_argument("map: VA " + hex(va) + " is not aligned to a " +
                                page_size_name(size) + " page");
  }
  const Pte leaf = Pte::leaf(pa, size, flags);
  const int target = leaf_level(size);
  uint64_t table = root & Pte::kAddressMask;
  for (int level = kPml4Level; level > target; --level) {
    const uint64_t ea = entry_address(table, va, level);
    const Pte e(mem_.read_u64(ea));
    if (!e.present()) {
      const uint64_t t = alloc_table();
      mem_.write_u64(ea, Pte::table(t).raw());
      table = t;
    } else if (level == kPml4Level && e.page_size_bit()) {
      throw std::invalid_argument("map: PML4 entry at " + hex(ea) + " has the reserved PS bit set");
    } else if (e.is_leaf_at(level)) {
      throw std::invalid_argument("map: VA " + hex(va) + " lies inside an existing " +
                                  page_size_name(size_at_level(level)) + " page");
    } else {
      table = e.table_address();
    }
  }
  const uint64_t ea = entry_address(table, va, target);
  const Pte old(mem_.read_u64(ea));
  if (target > kPtLevel && old.present() && !old.page_size_bit()) {
    throw std::invalid_argument("map: a " + std::string(page_size_name(size)) + " page at VA " +
                                hex(va) + " would replace an existing page table");
  }
  mem_.write_u64(ea, leaf.raw());
  return old;
}

std::optional<PageTableEditor::Slot> PageTableEditor::lookup(uint64_t root, uint64_t va) const {
  if (!is_canonical(va)) return std::nullopt;
  const Slot s = descend(root, va);
  if (s.level > kPtLevel && !s.pte.present()) return std::nullopt;
  return s;
}

PageTableEditor::Slot PageTableEditor::existing_leaf(uint64_t root, uint64_t va,
                                                     const char* what) const {
  if (!is_canonical(va)) {
    throw std::invalid_argument(std::string(what) + ": VA " + hex(va) + " is not canonical");
  }
  const Slot s = descend(root, va);
  if (s.level > kPtLevel && !s.pte.present()) {
    throw std::invalid_argument(std::string(what) + ": no page table maps VA " + hex(va) +
                                " (level " + std::to_string(s.level) + " entry not present)");
  }
  return s;
}

Pte PageTableEditor::set_leaf(uint64_t root, uint64_t va, Pte value) {
  const Slot s = existing_leaf(root, va, "set_leaf");
  mem_.write_u64(s.entry_addr, value.raw());
  return s.pte;
}

Pte PageTableEditor::clear_leaf(uint64_t root, uint64_t va) {
  const Slot s = existing_leaf(root, va, "clear_leaf");
  mem_.write_u64(s.entry_addr, 0);
  return s.pte;
}

Pte PageTableEditor::present_leaf_update(uint64_t root, uint64_t va, uint64_t set, uint64_t clear,
                                         const char* what) {
  constexpr uint64_t kStructural = Pte::kPresent | Pte::kPageSize | Pte::kAddressMask;
  if ((set | clear) & kStructural) {
    throw std::invalid_argument(std::string(what) +
                                ": P, PS and address bits cannot be changed this way (use "
                                "set_leaf/clear_leaf)");
  }
  const Slot s = existing_leaf(root, va, what);
  if (!s.pte.present()) {
    throw std::invalid_argument(std::string(what) + ": VA " + hex(va) + " is not mapped");
  }
  mem_.write_u64(s.entry_addr, (s.pte.raw() & ~clear) | set);
  return s.pte;
}

Pte PageTableEditor::update_flags(uint64_t root, uint64_t va, uint64_t set, uint64_t clear) {
  return present_leaf_update(root, va, set, clear, "update_flags");
}

Pte PageTableEditor::set_permissions(uint64_t root, uint64_t va, bool writable, bool user,
                                     bool executable) {
  const uint64_t set = (writable ? Pte::kWritable : 0) | (user ? Pte::kUser : 0) |
                       (executable ? 0 : Pte::kNoExecute);
  const uint64_t clear = Pte::kWritable | Pte::kUser | Pte::kNoExecute;
  return present_leaf_update(root, va, set, clear, "set_permissions");
}

Pte PageTableEditor::set_accessed(uint64_t root, uint64_t va, bool on) {
  return present_leaf_update(root, va, on ? Pte::kAccessed : 0, on ? 0 : Pte::kAccessed,
                             "set_accessed");
}

Pte PageTableEditor::set_dirty(uint64_t root, uint64_t va, bool on) {
  return present_leaf_update(root, va, on ? Pte::kDirty : 0, on ? 0 : Pte::kDirty, "set_dirty");
}

void PageTableEditor::collect_unmap(uint64_t root, uint64_t start, uint64_t last,
                                    std::vector<Unmapped>& out) const {
  uint64_t cur = start;
  for (;;) {
    const Slot s = descend(root, cur);
    const uint64_t span = uint64_t{1} << level_span_shift(s.level);
    const uint64_t base = cur & ~(span - 1);
    const uint64_t next = base + span;  // 0 when the entry ends the address space
    if (s.pte.present()) {
      if (base < start || next - 1 > last) {
        throw std::invalid_argument("unmap: the range covers only part of the " +
                                    std::string(page_size_name(s.size)) + " page at VA " +
                                    hex(base) + " (large pages are not split)");
      }
      out.push_back({base, s.entry_addr, s.pte, s.size});
    }
    if (next == 0 || next - 1 >= last) return;
    cur = next;
  }
}

void PageTableEditor::walk_table(uint64_t table, int level, uint64_t base, uint64_t first,
                                 uint64_t last, const LeafVisitor& fn, uint64_t& reads) const {
  const unsigned shift = level_span_shift(level);
  const uint64_t lo = first > base ? (first - base) >> shift : 0;
  const uint64_t hi = std::min<uint64_t>(kEntriesPerTable - 1, (last - base) >> shift);
  for (uint64_t i = lo; i <= hi; ++i) {
    const uint64_t ea = table + 8 * i;
    const Pte e(mem_.read_u64(ea));
    ++reads;
    if (!e.present() || (level == kPml4Level && e.page_size_bit())) continue;
    const uint64_t va = base + (i << shift);
    if (e.is_leaf_at(level)) {
      Slot s{ea, e, level, PageSize::k4K};
      if (level <= kPdptLevel) s.size = size_at_level(level);
      fn(canonical_of(va), s);
    } else {
      walk_table(e.table_address(), level - 1, va, first, last, fn, reads);
    }
  }
}

uint64_t PageTableEditor::for_each_present_leaf(uint64_t root, uint64_t start, uint64_t end,
                                                const LeafVisitor& fn) const {
  uint64_t reads = 0;
  if (end <= start) return reads;
  const uint64_t last = end - 1;
  constexpr uint64_t kHalf = uint64_t{1} << 47;              // end of the lower half
  constexpr uint64_t kUpper = ~uint64_t{0} << 47;            // start of the upper half
  constexpr uint64_t kOffsetMask = (uint64_t{1} << 48) - 1;  // 48-bit VA offset
  const uint64_t table = root & Pte::kAddressMask;
  if (start < kHalf) {
    walk_table(table, kPml4Level, 0, start, std::min(last, kHalf - 1), fn, reads);
  }
  if (last >= kUpper) {
    walk_table(table, kPml4Level, 0, std::max(start, kUpper) & kOffsetMask, last & kOffsetMask, fn,
               reads);
  }
  return reads;
}

std::vector<PageTableEditor::Unmapped> PageTableEditor::unmap(uint64_t root, uint64_t va,
                                                              uint64_t length) {
  if ((va | length) & (kTableBytes - 1)) {
    throw std::invalid_argument("unmap: VA " + hex(va) + " and length " + hex(length) +
                                " must be 4 KiB aligned");
  }
  std::vector<Unmapped> out;
  if (length == 0) return out;
  const uint64_t last = va + length - 1;
  if (last < va || !is_canonical(va) || !is_canonical(last) || (va >> 47) != (last >> 47)) {
    throw std::invalid_argument("unmap: range " + hex(va) + " + " + hex(length) +
                                " is not inside one canonical half of the address space");
  }
  collect_unmap(root, va, last, out);  // validates everything before changing anything
  for (const Unmapped& u : out) mem_.write_u64(u.entry_addr, 0);
  return out;
}

}  // namespace iosim
