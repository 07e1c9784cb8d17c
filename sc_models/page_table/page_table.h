// x86-64 4-level page-table format (Intel SDM vol. 3A, chapter 4.5 "4-level paging").
//
// - Pte: one 64-bit paging-structure entry, with accessors for P, RW, US, PWT, PCD,
//   A, D, PS, G, NX and the physical address (bits 51:12 for tables and 4 KiB pages,
//   51:21 for 2 MiB and 51:30 for 1 GiB pages).
// - Index extraction per level (level 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT), the
//   48-bit canonical-address check and page-size helpers.
// - walk(): a zero-time functional walk over PhysicalMemory, reporting the fault
//   level or the leaf, page size, physical address, effective permissions and the
//   address of every entry read, so a timed walker can replay those reads with
//   latency and skip the levels its page-walk caches hold. The walk only reads: it
//   does not set A/D bits (the walker or the OS does that with PageTableEditor).
// - PageTableEditor: what the OS uses to build and change tables in simulated memory.
//
// Simplifications: no 5-level paging, PAT, protection keys, SMEP/SMAP or CR0.WP;
// physical addresses are limited to 52 bits and to the memory size (an entry that
// points outside memory ends the walk with kBadAddress) but no narrower MAXPHYADDR
// reserved-bit check is made; bit 7 of a PT-level entry (PAT) is never set; empty
// tables are not freed by unmap; large pages are never split.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "sc_models/memory/page_size.h"

namespace iosim {

class PhysicalMemory;

enum class PageSize { k4K, k2M, k1G };

constexpr unsigned page_shift(PageSize s) {
  return s == PageSize::k4K ? 12 : s == PageSize::k2M ? 21 : 30;
}
constexpr uint64_t page_bytes(PageSize s) {
  return uint64_t{1} << page_shift(s);
}
constexpr uint64_t page_offset_mask(PageSize s) {
  return page_bytes(s) - 1;
}
// Paging level whose entry maps a page of this size: 1 (PT), 2 (PD) or 3 (PDPT).
constexpr int leaf_level(PageSize s) {
  return s == PageSize::k4K ? 1 : s == PageSize::k2M ? 2 : 3;
}
const char* page_size_name(PageSize s);  // "4K", "2M", "1G"

constexpr int kPml4Level = 4;
constexpr int kPdptLevel = 3;
constexpr int kPdLevel = 2;
constexpr int kPtLevel = 1;
constexpr unsigned kEntriesPerTable = 512;
constexpr uint64_t kTableBytes = kPageBytes;

// log2 of the bytes of VA space one entry at `level` covers (4 KiB, 2 MiB, 1 GiB, 512 GiB).
constexpr unsigned level_span_shift(int level) {
  return kPageShift + kLevelIndexBits * static_cast<unsigned>(level - 1);
}
// Index (0..511) of the entry for `va` in the table at `level` (4..1).
constexpr unsigned pt_index(uint64_t va, int level) {
  return static_cast<unsigned>((va >> level_span_shift(level)) & (kEntriesPerTable - 1));
}
// 48-bit canonical: bits 63:47 all equal.
constexpr bool is_canonical(uint64_t va) {
  const uint64_t top = va >> 47;
  return top == 0 || top == 0x1ffff;
}
// Address of the entry for `va` in the table at `table_pa`, which is at `level`.
constexpr uint64_t entry_address(uint64_t table_pa, uint64_t va, int level) {
  return table_pa + 8 * uint64_t{pt_index(va, level)};
}

class Pte {
 public:
  static constexpr uint64_t kPresent = uint64_t{1} << 0;
  static constexpr uint64_t kWritable = uint64_t{1} << 1;
  static constexpr uint64_t kUser = uint64_t{1} << 2;
  static constexpr uint64_t kWriteThrough = uint64_t{1} << 3;  // PWT
  static constexpr uint64_t kCacheDisable = uint64_t{1} << 4;  // PCD
  static constexpr uint64_t kAccessed = uint64_t{1} << 5;
  static constexpr uint64_t kDirty = uint64_t{1} << 6;
  static constexpr uint64_t kPageSize = uint64_t{1} << 7;  // PS (PDPT/PD level only)
  static constexpr uint64_t kGlobal = uint64_t{1} << 8;
  static constexpr uint64_t kNoExecute = uint64_t{1} << 63;
  // Physical-address field of a table pointer or 4 KiB page (bits 51:12).
  static constexpr uint64_t kAddressMask = 0x000ffffffffff000ull;
  // Bits that are not part of any address field (0..11 and 52..63).
  static constexpr uint64_t kFlagMask = ~kAddressMask;
  // Flags of an intermediate (non-leaf) entry created by PageTableEditor.
  static constexpr uint64_t kTableFlags = kPresent | kWritable | kUser;

  constexpr Pte() = default;
  constexpr explicit Pte(uint64_t raw) : raw_(raw) {}

  // Entry pointing to the next-level table at `table_pa` (4 KiB aligned).
  static Pte table(uint64_t table_pa, uint64_t flags = kTableFlags);
  // Leaf entry mapping a page of `size` at `pa` (aligned to the size). P is added,
  // PS is set for 2 MiB and 1 GiB pages and cleared for 4 KiB pages. Throws
  // std::invalid_argument for a misaligned or wider than 52-bit `pa`, or for flags
  // that overlap the address field.
  static Pte leaf(uint64_t pa, PageSize size, uint64_t flags);

  constexpr uint64_t raw() const { return raw_; }
  constexpr bool present() const { return raw_ & kPresent; }
  constexpr bool writable() const { return raw_ & kWritable; }
  constexpr bool user() const { return raw_ & kUser; }
  constexpr bool write_through() const { return raw_ & kWriteThrough; }
  constexpr bool cache_disable() const { return raw_ & kCacheDisable; }
  constexpr bool accessed() const { return raw_ & kAccessed; }
  constexpr bool dirty() const { return raw_ & kDirty; }
  constexpr bool page_size_bit() const { return raw_ & kPageSize; }
  constexpr bool global() const { return raw_ & kGlobal; }
  constexpr bool no_execute() const { return raw_ & kNoExecute; }
  constexpr uint64_t flags() const { return raw_ & kFlagMask; }
  // Next-level table address (bits 51:12).
  constexpr uint64_t table_address() const { return raw_ & kAddressMask; }
  // Page frame address of a leaf of `size` (bits 51:12, 51:21 or 51:30).
  constexpr uint64_t page_address(PageSize size) const {
    return raw_ & kAddressMask & ~page_offset_mask(size);
  }
  // True when the entry at `level` maps a page rather than pointing to a table.
  constexpr bool is_leaf_at(int level) const {
    return level == kPtLevel || ((level == kPdLevel || level == kPdptLevel) && page_size_bit());
  }

  constexpr Pte with(uint64_t set) const { return Pte(raw_ | set); }
  constexpr Pte without(uint64_t clear) const { return Pte(raw_ & ~clear); }
  constexpr bool operator==(const Pte& o) const { return raw_ == o.raw_; }
  constexpr bool operator!=(const Pte& o) const { return raw_ != o.raw_; }

 private:
  uint64_t raw_ = 0;
};

enum class WalkStatus {
  kOk,            // translation found
  kNotPresent,    // an entry with P = 0 at fault_level
  kReservedBit,   // PS = 1 in a PML4 entry
  kNonCanonical,  // the VA is not 48-bit canonical (no entry read)
  kBadAddress,    // an entry address falls outside physical memory (fault_level)
};
const char* walk_status_name(WalkStatus s);

struct WalkResult {
  WalkStatus status = WalkStatus::kNonCanonical;
  int fault_level = 0;  // level of the failing entry (4..1), 0 when status is kOk
  PageSize size = PageSize::k4K;
  uint64_t pa = 0;         // translated physical address (kOk only)
  Pte leaf;                // leaf entry (kOk only)
  uint64_t leaf_addr = 0;  // physical address of the leaf entry (kOk only)
  // Effective permissions over every entry read: RW and US AND-ed, NX OR-ed.
  bool writable = false;
  bool user = false;
  bool no_execute = false;
  // Entries read, root level first: entry_addrs[i] is at level 4 - i, entries[i]
  // is the value read there.
  unsigned num_reads = 0;
  std::array<uint64_t, 4> entry_addrs{};
  std::array<Pte, 4> entries{};

  bool present() const { return status == WalkStatus::kOk; }
  // True when the translation allows the access (write / user-mode / instruction fetch).
  bool allows(bool write, bool user_mode, bool execute) const {
    return present() && (!write || writable) && (!user_mode || user) && (!execute || !no_execute);
  }
};

// Functional walk from the PML4 table at `root_pa` (zero simulated time).
WalkResult walk(const PhysicalMemory& mem, uint64_t root_pa, uint64_t va);

// Address of the entry for `va` at `level`, following the tables from `root_pa`;
// nullopt when a higher-level entry is not present, maps a large page, or points
// outside memory, or when `va` is not canonical.
std::optional<uint64_t> find_entry_address(const PhysicalMemory& mem, uint64_t root_pa, uint64_t va,
                                           int level);

// Builds and changes page tables in simulated memory. Errors (misaligned or
// non-canonical addresses, mapping over a large page or over a table, changing a
// leaf that does not exist) throw std::invalid_argument with a message.
class PageTableEditor {
 public:
  // Returns the physical address of a free 4 KiB frame (it is zeroed again here).
  using FrameAllocator = std::function<uint64_t()>;

  // The slot holding the leaf for a VA: its address, current value (possibly not
  // present), level and the page size a leaf there maps.
  struct Slot {
    uint64_t entry_addr = 0;
    Pte pte;
    int level = kPtLevel;
    PageSize size = PageSize::k4K;
  };
  // One leaf removed by unmap().
  struct Unmapped {
    uint64_t va = 0;
    uint64_t entry_addr = 0;
    Pte old;
    PageSize size = PageSize::k4K;
  };

  PageTableEditor(PhysicalMemory& mem, FrameAllocator alloc);

  // Allocates and zeroes a new (empty) PML4 table.
  uint64_t new_root();

  // Maps the page of `size` at `va` to `pa` with leaf `flags` (P and PS are set as
  // needed), creating missing intermediate tables with P|RW|US. An existing leaf of
  // the same size is replaced. Returns the previous leaf value.
  Pte map(uint64_t root, uint64_t va, uint64_t pa, PageSize size, uint64_t flags);

  // The leaf slot for `va` when the tables down to it exist (the entry may be not
  // present), nullopt when a higher-level entry is not present.
  std::optional<Slot> lookup(uint64_t root, uint64_t va) const;

  // Write the leaf slot for `va` (it must exist, see lookup) and return its old value.
  Pte set_leaf(uint64_t root, uint64_t va, Pte value);
  Pte clear_leaf(uint64_t root, uint64_t va);

  // Change flags of the present leaf mapping `va`; each returns the old entry.
  Pte update_flags(uint64_t root, uint64_t va, uint64_t set, uint64_t clear);
  Pte set_permissions(uint64_t root, uint64_t va, bool writable, bool user, bool executable);
  Pte set_accessed(uint64_t root, uint64_t va, bool on);
  Pte set_dirty(uint64_t root, uint64_t va, bool on);

  // Calls fn(va, slot) for every present leaf in [start, end), in address order (va
  // is the first address of the leaf's page). An entry above the leaf level that is
  // not present skips the whole span it covers (pgd/pud/pmd_none: on to the next
  // boundary), so the cost follows the tables that exist, not the range length; a
  // range that is not canonical is clipped to the canonical halves. Each entry is read
  // when the walk reaches it, so `fn` may change the leaf it is given (and wait).
  // Returns the number of entries read.
  using LeafVisitor = std::function<void(uint64_t va, const Slot& slot)>;
  uint64_t for_each_present_leaf(uint64_t root, uint64_t start, uint64_t end,
                                 const LeafVisitor& fn) const;

  // Clears every present leaf in [va, va + length) (4 KiB aligned). A large page
  // only partly inside the range is an error, reported before anything changes.
  std::vector<Unmapped> unmap(uint64_t root, uint64_t va, uint64_t length);

  uint64_t tables_allocated() const { return tables_allocated_; }

 private:
  uint64_t alloc_table();
  // Follows the tables towards `va` and returns the deepest entry reached: a leaf
  // slot, or a non-present entry above the leaf level.
  Slot descend(uint64_t root, uint64_t va) const;
  Slot existing_leaf(uint64_t root, uint64_t va, const char* what) const;
  Pte present_leaf_update(uint64_t root, uint64_t va, uint64_t set, uint64_t clear,
                          const char* what);
  void collect_unmap(uint64_t root, uint64_t start, uint64_t last,
                     std::vector<Unmapped>& out) const;
  // The entries of the table at `table` (at `level`, mapping 48-bit VA offsets from
  // `base`) that overlap [first, last] (48-bit offsets).
  void walk_table(uint64_t table, int level, uint64_t base, uint64_t first, uint64_t last,
                  const LeafVisitor& fn, uint64_t& reads) const;

  PhysicalMemory& mem_;
  FrameAllocator alloc_;
  uint64_t tables_allocated_ = 0;
};

}  // namespace iosim
