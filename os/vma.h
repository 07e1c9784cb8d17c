// VMAs of an address space (struct vm_area_struct / the maple tree), reduced to
// [start, end), protections, the private-anonymous / shared-anonymous flag and the
// VM_HUGEPAGE / VM_HUGETLB flags.
//
// VmaList keeps non-overlapping VMAs sorted by start. Operations split VMAs at range
// boundaries as the kernel does (__split_vma) and never merge neighbours.
//
// Simplifications: anonymous memory only (no files); a shared VMA shares its frames
// with the children that inherit it at fork, but pages first touched after the fork
// are not shared (no shmem object behind the VMA); PROT_EXEC is recorded but the
// cores never fetch instructions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace iosim {

constexpr uint32_t kProtNone = 0;
constexpr uint32_t kProtRead = 1u << 0;
constexpr uint32_t kProtWrite = 1u << 1;
constexpr uint32_t kProtExec = 1u << 2;

struct Vma {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  uint32_t prot = kProtRead | kProtWrite;
  bool shared = false;    // MAP_SHARED | MAP_ANONYMOUS; else MAP_PRIVATE | MAP_ANONYMOUS
  bool hugepage = false;  // VM_HUGEPAGE (madvise(MADV_HUGEPAGE))
  bool hugetlb = false;   // VM_HUGETLB: an explicit 1 GiB mapping (populated at creation)

  bool readable() const { return prot & kProtRead; }
  bool writable() const { return prot & kProtWrite; }
  // Private and possibly writable: pages are copied on write after fork (is_cow_mapping).
  bool cow() const { return !shared && writable(); }
  bool contains(uint64_t va) const { return va >= start && va < end; }
};

class VmaList {
 public:
  // Lowest address handed out by find_free() (mmap_min_addr-like floor).
  static constexpr uint64_t kMmapBase = uint64_t{1} << 32;

  const Vma* find(uint64_t va) const;
  // True when [start, end) is entirely covered by VMAs (no hole).
  bool covered(uint64_t start, uint64_t end) const;
  bool overlaps(uint64_t start, uint64_t end) const;
  // Lowest gap of `len` bytes at or above kMmapBase.
  uint64_t find_free(uint64_t len) const;

  // Inserts a VMA; it must not overlap an existing one (std::invalid_argument).
  void insert(const Vma& v);
  // Removes [start, end), splitting VMAs that straddle the boundaries; returns the
  // removed pieces.
  std::vector<Vma> remove(uint64_t start, uint64_t end);
  // Sets the protection of [start, end) (which must be covered), splitting as needed.
  void protect(uint64_t start, uint64_t end, uint32_t prot);
  // Sets or clears VM_HUGEPAGE on [start, end) (which must be covered), splitting as
  // needed (madvise_update_vma).
  void set_hugepage(uint64_t start, uint64_t end, bool on);
  // VMAs overlapping [start, end), clipped to it, in address order.
  std::vector<Vma> in_range(uint64_t start, uint64_t end) const;
  std::vector<Vma> all() const;
  size_t size() const { return vmas_.size(); }

 private:
  void split_at(uint64_t addr);

  std::map<uint64_t, Vma> vmas_;  // by start
};

}  // namespace iosim
