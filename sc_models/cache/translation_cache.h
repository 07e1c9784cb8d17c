// A translation cache: the one structure behind the CPU TLB, the IOMMU IOTLB, the
// page-walk caches and the device ATC. A plain C++ object: no SystemC process and no
// timing; its owner charges lookup, fill and invalidation time.
//
// What it models
// - A sets x ways array (fully associative when sets == 1) with LRU, FIFO or seeded
//   random replacement per set; invalid ways are filled before a valid one is evicted.
// - Entries cover a naturally aligned power-of-two range from 2^12 (4 KiB) up to 2^64
//   bytes: 4K/2M/1G pages and any range from an ATS completion's S bit.
// - Tags: a PASID (20 bits, or kNoPasid) and a second integer for the requester ID,
//   domain ID or ASID. A global entry matches any PASID (kNoPasid included), but
//   only in its own domain.
// - Mixed sizes: an entry of size 2^k lives in set (base >> k) & (sets - 1), the VA
//   bits just above its page offset. A lookup probes, for every size class present
//   (per-class population bitmasks, non-global and global), the set that VA selects,
//   smallest class first, non-global before global; the first match is the hit.
// - Invalidations remove every matching entry whatever its set, in slot order (by
//   probing each aligned block when the range is small and names its domain, else by
//   a scan: same entries removed, same replacement state). With GlobalEntries::kKeep
//   (default) a PASID-scoped invalidation leaves global entries alone, as x86 INVPCID
//   types 0, 1 and 3 do (Intel SDM vol. 2A, INVPCID); kRemove treats them as
//   belonging to every PASID (as INVLPG does). Other invalidations remove them too.
//
// What it simplifies
// - The way inside a set is found through a hash index over (tag, size, base) holding
//   exactly the valid entries: the same answer as the set's parallel tag compare.
// - True LRU (hardware often uses pseudo-LRU). Overlapping entries (a stale 4K entry
//   under a new 2M one) are allowed; hardware may instead report a multi-hit.
// - The payload is fixed: a translated base, caller-defined permission bits and a
//   caller word (walk level, fill time, index into a side table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sc_models/config/choice.h"
#include "sc_models/pcie/pcie_fields.h"

namespace iosim {

// PASID value of translations made without a PASID.
inline constexpr uint32_t kNoPasid = 0xFFFFFFFFu;

// Who a lookup is for.
struct TranslationTag {
  uint32_t pasid = kNoPasid;  // PCIe PASID, or kNoPasid
  uint32_t domain = 0;        // requester ID, domain ID or ASID; 0 where unused
};

// Permission bits callers commonly store in TranslationEntry::perms. The cache
// never interprets them; a caller may use its own encoding instead.
namespace tperm {
inline constexpr uint32_t kRead = 1u << 0;
inline constexpr uint32_t kWrite = 1u << 1;
inline constexpr uint32_t kExec = 1u << 2;
inline constexpr uint32_t kUser = 1u << 3;          // U/S: user-accessible
inline constexpr uint32_t kPriv = 1u << 4;          // ATS Priv
inline constexpr uint32_t kDirty = 1u << 5;         // D bit already set in memory
inline constexpr uint32_t kUntranslated = 1u << 6;  // ATS U: use untranslated requests
inline constexpr uint32_t kNoSnoop = 1u << 7;       // ATS N
}  // namespace tperm

// One cached translation. The first five fields are the tag and range; the
// last three are the payload.
struct TranslationEntry {
  uint32_t pasid = kNoPasid;  // PASID that filled it (for global entries: informative)
  uint32_t domain = 0;        // requester / domain tag
  uint64_t base = 0;          // first VA covered, aligned to the size
  uint8_t log2_size = 12;     // 12 (4 KiB) .. 64 (whole address space)
  bool global = false;        // matches any PASID of its domain
  uint32_t perms = 0;         // caller-defined permission bits (see tperm)
  uint64_t target = 0;        // translated base (PA, IOVA) or next-level table address
  uint64_t user = 0;          // caller's word

  uint64_t offset_mask() const { return log2_size >= 64 ? ~0ull : (1ull << log2_size) - 1; }
  uint64_t last() const { return base | offset_mask(); }  // last VA covered
  bool contains(uint64_t va) const { return (va & ~offset_mask()) == base; }
  bool overlaps(uint64_t first, uint64_t last_va) const {
    return base <= last_va && last() >= first;
  }
  // The translated address of va (va must be contained).
  uint64_t translate(uint64_t va) const { return target + (va & offset_mask()); }
};

// Victim choice within a set. A new policy is one entry in this table, and its rule in
// TranslationCache::lookup (what a hit does) and choose_victim (which way goes).
enum class Replacement { kLru, kFifo, kRandom };
inline constexpr ChoiceValue<Replacement> kReplacementValues[] = {
    {"lru", Replacement::kLru, "least recently used"},
    {"fifo", Replacement::kFifo, "oldest fill first"},
    {"random", Replacement::kRandom, "seeded pseudo-random way once the set is full"}};
inline constexpr Choices<Replacement> kReplacement{kReplacementValues};

struct TranslationCacheConfig {
  // Generic default (64-entry fully associative); each user sets its own geometry.
  uint32_t sets = 1;
  uint32_t ways = 64;
  Replacement replacement = Replacement::kLru;
  uint64_t random_seed = 1;

  template <class V>
  void visit(V& v) {
    v("sets", sets, "sets", "number of sets (power of two; 1 = fully associative)");
    v("ways", ways, "entries", "entries per set");
    v.choice("replacement", replacement, kReplacement, "victim choice within a set");
    v("random_seed", random_seed, "", "seed of the random replacement policy");
  }
};

// How a PASID-scoped invalidation treats global entries.
enum class GlobalEntries {
  kKeep,    // global entries survive (x86 INVPCID single-context / individual address)
  kRemove,  // global entries count as belonging to every PASID
};

// Which entries an invalidation applies to, besides its address range. An empty
// optional means "any".
struct TagFilter {
  std::optional<uint32_t> pasid;   // only this PASID (kNoPasid: entries without a PASID)
  std::optional<uint32_t> domain;  // only this requester / domain
  GlobalEntries global = GlobalEntries::kKeep;  // consulted only when pasid is set

  bool matches(const TranslationEntry& e) const;
};

struct TranslationCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t insertions = 0;   // every insert(), including in-place replacements
  uint64_t evictions = 0;    // valid entries displaced by an insert into a full set
  uint64_t invalidated = 0;  // entries removed by invalidations
};

class TranslationCache {
 public:
  // Throws ParamError naming the parameter for a bad geometry.
  explicit TranslationCache(const TranslationCacheConfig& cfg);

  // Finds the entry covering va for tag, updating replacement state and counters.
  // The pointer is valid until the next insert or invalidation. No allocation.
  const TranslationEntry* lookup(const TranslationTag& tag, uint64_t va);
  // Same match, without touching replacement state or counters.
  const TranslationEntry* peek(const TranslationTag& tag, uint64_t va) const;

  // Inserts e (replacing an entry with the same PASID-or-global, domain, base and
  // size in place). Returns the valid entry evicted to make room, if any. Throws
  // std::invalid_argument for a size outside 2^12..2^64, a base not aligned to its
  // size or a PASID wider than 20 bits.
  std::optional<TranslationEntry> insert(const TranslationEntry& e);

  // Each returns the number of entries removed.
  // Entries of f that contain va.
  size_t invalidate_va(uint64_t va, const TagFilter& f = {});
  // Entries of f that overlap [start, end). end < start throws std::invalid_argument;
  // a range reaching 2^64 uses invalidate().
  size_t invalidate_range(uint64_t start, uint64_t end, const TagFilter& f = {});
  // Every entry of the PASID, in every domain and every set.
  size_t invalidate_pasid(uint32_t pasid, GlobalEntries global = GlobalEntries::kKeep);
  // Every entry of the requester / domain, global ones included.
  size_t invalidate_domain(uint32_t domain);
  size_t invalidate_all();
  // General form: entries of f overlapping [first, last] (inclusive).
  size_t invalidate(const TagFilter& f, uint64_t first = 0, uint64_t last = ~0ull);
  // The same by scanning every slot, whatever f and the range (the reference the
  // index probes of invalidate() are tested against).
  size_t invalidate_by_scan(const TagFilter& f, uint64_t first = 0, uint64_t last = ~0ull);

  // Calls fn(const TranslationEntry&) for every valid entry, in slot order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (valid_[i]) fn(entries_[i]);
    }
  }

  // The set an entry of this base and size lives in (and a lookup of a VA inside it probes).
  uint32_t set_of(uint64_t base, unsigned log2_size) const;

  // The slot of an entry lookup() or peek() returned (for callers keeping data per
  // slot), and the slot the last insert() wrote.
  size_t slot_of(const TranslationEntry& e) const {
    return static_cast<size_t>(&e - entries_.data());
  }
  size_t last_insert_slot() const { return last_insert_slot_; }

  size_t size() const { return valid_count_; }
  size_t capacity() const { return entries_.size(); }
  uint32_t sets() const { return sets_; }
  uint32_t ways() const { return ways_; }
  Replacement policy() const { return policy_; }
  const TranslationCacheStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

 private:
  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  static constexpr unsigned kMinLog2 = 12;
  // Most index probes an invalidation makes instead of scanning (also at most an
  // eighth of the capacity: a small array scans about as fast).
  static constexpr size_t kMaxInvalidateProbes = 32;

  // Slots an invalidation removes, found by index probes.
  struct ProbeHits {
    uint32_t slots[kMaxInvalidateProbes];
    size_t count = 0;
  };

  struct Link {
    uint32_t prev, next;
  };

  uint32_t find(const TranslationTag& tag, uint64_t va) const;
  uint32_t probe(bool global, uint32_t pasid, uint32_t domain, uint64_t base, unsigned log2) const;
  uint32_t find_same(const TranslationEntry& e) const;
  uint32_t choose_victim(uint32_t set);
  // Drops a valid entry from the index and the population counts (not from its
  // recency list); remove() also moves the slot to its set's tail.
  void drop(uint32_t slot);
  void remove(uint32_t slot);
  void check_range(uint64_t first, uint64_t last) const;
  // Probes the index for the entries invalidate(f, first, last) removes; false when
  // it cannot (f leaves part of the key open) or should not (too many probes).
  bool probe_matches(const TagFilter& f, uint64_t first, uint64_t last, ProbeHits& hits) const;

  // Hash index over valid slots (open addressing, linear probing). Each bucket keeps
  // the high 32 bits of its key's hash next to the slot: a probe compares an entry
  // only when they match, and deletion finds a member's home bucket from them
  // (bucket index = hash >> bucket_shift_, bucket_shift_ >= 32, so those bits hold it).
  struct Bucket {
    uint32_t slot;
    uint32_t hash_hi;
  };
  uint64_t hash_of(bool global, uint32_t pasid, uint32_t domain, uint64_t base,
                   unsigned log2) const;
  uint64_t hash_of(const TranslationEntry& e) const;
  size_t home_of(uint32_t hash_hi) const { return hash_hi >> (bucket_shift_ - 32); }
  void index_insert(uint32_t slot);
  void index_erase(uint32_t slot);

  // Per-set recency lists: circular, one sentinel per set after the slots. Head =
  // most recently filled/used, tail = next victim; invalid ways sit at the tail.
  void unlink(uint32_t node);
  void push_front(uint32_t set, uint32_t node);
  void push_back(uint32_t set, uint32_t node);
  uint32_t sentinel(uint32_t set) const { return static_cast<uint32_t>(entries_.size()) + set; }

  void count_class(const TranslationEntry& e, int delta);
  uint64_t next_random();

  uint32_t sets_, ways_;
  Replacement policy_;
  uint64_t rng_state_;

  std::vector<TranslationEntry> entries_;
  std::vector<uint8_t> valid_;
  std::vector<Link> links_;
  std::vector<Bucket> buckets_;
  uint64_t bucket_mask_;
  unsigned bucket_shift_;

  // Population per size class, [0] non-global, [1] global; bit (log2 - 12) of
  // present_[g] is set while count_[g][log2] > 0.
  uint32_t count_[2][65] = {};
  uint64_t present_[2] = {0, 0};
  size_t valid_count_ = 0;
  size_t last_insert_slot_ = 0;
  TranslationCacheStats stats_;
};

}  // namespace iosim
