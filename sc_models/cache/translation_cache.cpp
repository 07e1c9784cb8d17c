// Translation cache: set/way array, recency lists and the hash index that stands in
// for the parallel tag compare. See translation_cache.h for the model.
#include "sc_models/cache/translation_cache.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>

#include "sc_models/config/params.h"

namespace iosim {

namespace {

// Largest array we accept; far beyond any hardware TLB, small enough for 32-bit slots.
constexpr uint64_t kMaxEntries = 1ull << 24;

unsigned log2_ceil(uint64_t v) {
  unsigned b = 0;
  while ((1ull << b) < v) ++b;
  return b;
}

std::string hex(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 15]);
    v >>= 4;
  } while (v);
  return "0x" + s;
}

void validate(const TranslationEntry& e) {
  if (e.log2_size < 12 || e.log2_size > 64) {
    throw std::invalid_argument("translation entry size 2^" + std::to_string(e.log2_size) +
                                " is outside 2^12..2^64");
  }
  if (e.base & e.offset_mask()) {
    throw std::invalid_argument("translation entry base " + hex(e.base) +
                                " is not aligned to its size 2^" + std::to_string(e.log2_size));
  }
  if (e.pasid != kNoPasid && e.pasid > kPasidMax) {
    throw std::invalid_argument("translation entry PASID " + hex(e.pasid) +
                                " is wider than 20 bits");
  }
}

}  // namespace

bool TagFilter::matches(const TranslationEntry& e) const {
  if (domain && e.domain != *domain) return false;
  if (!pasid) return true;
  if (e.global) return global == GlobalEntries::kRemove;
  return e.pasid == *pasid;
}

TranslationCache::TranslationCache(const TranslationCacheConfig& cfg)
    : sets_(cfg.sets), ways_(cfg.ways), policy_(cfg.replacement), rng_state_(cfg.random_seed) {
  if (sets_ == 0 || (sets_ & (sets_ - 1)) != 0) {
    throw ParamError("'sets' must be a power of two >= 1 (got " + std::to_string(sets_) + ")");
  }
  if (ways_ == 0) throw ParamError("'ways' must be at least 1");
  uint64_t cap = static_cast<uint64_t>(sets_) * ways_;
  if (cap > kMaxEntries) {
    throw ParamError("'sets' x 'ways' must be at most " + std::to_string(kMaxEntries) +
                     " entries (got " + std::to_string(cap) + ")");
  }
  entries_.resize(cap);
  valid_.assign(cap, 0);
  links_.resize(cap + sets_);
  for (uint32_t s = 0; s < sets_; ++s) {
    links_[sentinel(s)] = {sentinel(s), sentinel(s)};
    for (uint32_t w = 0; w < ways_; ++w) push_back(s, s * ways_ + w);
  }
  // At most half full, so probe sequences stay short.
  unsigned bits = log2_ceil(cap * 2);
  if (bits < 4) bits = 4;
  // bits <= 25 (kMaxEntries), so bucket_shift_ >= 32 as home_of() needs.
  buckets_.assign(size_t{1} << bits, Bucket{kNone, 0});
  bucket_mask_ = (uint64_t{1} << bits) - 1;
  bucket_shift_ = 64 - bits;
}

uint32_t TranslationCache::set_of(uint64_t base, unsigned log2_size) const {
  if (log2_size >= 64) return 0;
  return static_cast<uint32_t>(base >> log2_size) & (sets_ - 1);
}

// ---------------------------------------------------------------- lookup

const TranslationEntry* TranslationCache::lookup(const TranslationTag& tag, uint64_t va) {
  uint32_t s = find(tag, va);
  if (s == kNone) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  if (policy_ == Replacement::kLru) {
    const TranslationEntry& e = entries_[s];
    unlink(s);
    push_front(set_of(e.base, e.log2_size), s);
  }
  return &entries_[s];
}

const TranslationEntry* TranslationCache::peek(const TranslationTag& tag, uint64_t va) const {
  uint32_t s = find(tag, va);
  return s == kNone ? nullptr : &entries_[s];
}

uint32_t TranslationCache::find(const TranslationTag& tag, uint64_t va) const {
  uint64_t classes = present_[0] | present_[1];
  while (classes) {
    unsigned bit = static_cast<unsigned>(__builtin_ctzll(classes));
    classes &= classes - 1;
    unsigned log2 = bit + kMinLog2;
    uint64_t base = log2 >= 64 ? 0 : va & ~((uint64_t{1} << log2) - 1);
    if ((present_[0] >> bit) & 1) {
      uint32_t s = probe(false, tag.pasid, tag.domain, base, log2);
      if (s != kNone) return s;
    }
    if ((present_[1] >> bit) & 1) {
      uint32_t s = probe(true, tag.pasid, tag.domain, base, log2);
      if (s != kNone) return s;
    }
  }
  return kNone;
}

uint32_t TranslationCache::probe(bool global, uint32_t pasid, uint32_t domain, uint64_t base,
                                 unsigned log2) const {
  const uint64_t h = hash_of(global, pasid, domain, base, log2);
  const auto hash_hi = static_cast<uint32_t>(h >> 32);
  for (size_t i = h >> bucket_shift_;; i = (i + 1) & bucket_mask_) {
    const Bucket& b = buckets_[i];
    if (b.slot == kNone) return kNone;
    if (b.hash_hi != hash_hi) continue;  // another key
    const uint32_t s = b.slot;
    const TranslationEntry& e = entries_[s];
    if (e.base == base && e.log2_size == log2 && e.global == global && e.domain == domain &&
        (global || e.pasid == pasid)) {
      return s;
    }
  }
}

uint32_t TranslationCache::find_same(const TranslationEntry& e) const {
  return probe(e.global, e.pasid, e.domain, e.base, e.log2_size);
}

// ---------------------------------------------------------------- fill

std::optional<TranslationEntry> TranslationCache::insert(const TranslationEntry& e) {
  validate(e);
  ++stats_.insertions;
  uint32_t set = set_of(e.base, e.log2_size);
  uint32_t s = find_same(e);
  if (s != kNone) {
    // Same key: the hash position does not change (global entries ignore the PASID).
    last_insert_slot_ = s;
    entries_[s] = e;
    unlink(s);
    push_front(set, s);
    return std::nullopt;
  }
  std::optional<TranslationEntry> evicted;
  s = choose_victim(set);
  if (valid_[s]) {
    // The victim's slot is refilled at once: it goes from its place in the recency
    // list straight to the front (remove() would first move it to the tail).
    evicted = entries_[s];
    drop(s);
    ++stats_.evictions;
  }
  last_insert_slot_ = s;
  entries_[s] = e;
  valid_[s] = 1;
  ++valid_count_;
  index_insert(s);
  count_class(e, +1);
  unlink(s);
  push_front(set, s);
  return evicted;
}

uint32_t TranslationCache::choose_victim(uint32_t set) {
  uint32_t tail = links_[sentinel(set)].prev;
  if (!valid_[tail] || policy_ != Replacement::kRandom) return tail;
  return set * ways_ + static_cast<uint32_t>(next_random() % ways_);
}

void TranslationCache::drop(uint32_t slot) {
  assert(valid_[slot]);
  index_erase(slot);
  count_class(entries_[slot], -1);
  valid_[slot] = 0;
  --valid_count_;
}

void TranslationCache::remove(uint32_t slot) {
  drop(slot);
  unlink(slot);
  push_back(slot / ways_, slot);
}

// ---------------------------------------------------------------- invalidation

void TranslationCache::check_range(uint64_t first, uint64_t last) const {
  if (first > last) {
    throw std::invalid_argument("invalidation range first " + hex(first) + " is above last " +
                                hex(last));
  }
}

bool TranslationCache::probe_matches(const TagFilter& f, uint64_t first, uint64_t last,
                                     ProbeHits& hits) const {
  if (!f.domain) return false;
  // Which key families f matches (see TagFilter::matches): non-global entries of
  // one PASID, global entries of the domain.
  const bool global_match = !f.pasid || f.global == GlobalEntries::kRemove;
  const uint64_t families[2] = {f.pasid ? present_[0] : 0, global_match ? present_[1] : 0};
  if (!f.pasid && present_[0] != 0) return false;  // non-global entries of any PASID
  // The aligned blocks of each present size class that overlap [first, last].
  const size_t limit = std::min<size_t>(kMaxInvalidateProbes, entries_.size() / 8);
  size_t probes = 0;
  for (const uint64_t classes : families) {
    for (uint64_t c = classes; c; c &= c - 1) {
      const unsigned log2 = static_cast<unsigned>(__builtin_ctzll(c)) + kMinLog2;
      const uint64_t blocks = log2 >= 64 ? 1 : (last >> log2) - (first >> log2) + 1;
      if (blocks > limit - probes) return false;
      probes += blocks;
    }
  }
  for (int g = 0; g < 2; ++g) {
    const uint32_t pasid = f.pasid.value_or(kNoPasid);  // global keys ignore it
    for (uint64_t c = families[g]; c; c &= c - 1) {
      const unsigned log2 = static_cast<unsigned>(__builtin_ctzll(c)) + kMinLog2;
      const uint64_t lo = log2 >= 64 ? 0 : first >> log2;
      const uint64_t hi = log2 >= 64 ? 0 : last >> log2;
      for (uint64_t b = lo;; ++b) {
        const uint64_t base = log2 >= 64 ? 0 : b << log2;
        const uint32_t s = probe(g != 0, pasid, *f.domain, base, log2);
        if (s != kNone) hits.slots[hits.count++] = s;
        if (b == hi) break;
      }
    }
  }
  return true;
}

size_t TranslationCache::invalidate(const TagFilter& f, uint64_t first, uint64_t last) {
  check_range(first, last);
  ProbeHits hits;
  if (!probe_matches(f, first, last, hits)) return invalidate_by_scan(f, first, last);
  // Slot order, as the scan removes them: removal pushes the slot to its set's tail,
  // so the order decides which slot the next fills take.
  std::sort(hits.slots, hits.slots + hits.count);
  for (size_t i = 0; i < hits.count; ++i) remove(hits.slots[i]);
  stats_.invalidated += hits.count;
  return hits.count;
}

size_t TranslationCache::invalidate_by_scan(const TagFilter& f, uint64_t first, uint64_t last) {
  check_range(first, last);
  size_t removed = 0;
  // Every slot of every set: an entry's set depends on its own size and base, so no
  // single set can be trusted to hold all matches.
  for (uint32_t s = 0; s < entries_.size() && valid_count_ > 0; ++s) {
    if (!valid_[s]) continue;
    const TranslationEntry& e = entries_[s];
    if (e.overlaps(first, last) && f.matches(e)) {
      remove(s);
      ++removed;
    }
  }
  stats_.invalidated += removed;
  return removed;
}

size_t TranslationCache::invalidate_va(uint64_t va, const TagFilter& f) {
  return invalidate(f, va, va);
}

size_t TranslationCache::invalidate_range(uint64_t start, uint64_t end, const TagFilter& f) {
  if (end < start) {
    throw std::invalid_argument("invalidation range end " + hex(end) + " is below start " +
                                hex(start));
  }
  if (end == start) return 0;
  return invalidate(f, start, end - 1);
}

size_t TranslationCache::invalidate_pasid(uint32_t pasid, GlobalEntries global) {
  TagFilter f;
  f.pasid = pasid;
  f.global = global;
  return invalidate(f);
}

size_t TranslationCache::invalidate_domain(uint32_t domain) {
  TagFilter f;
  f.domain = domain;
  return invalidate(f);
}

size_t TranslationCache::invalidate_all() {
  return invalidate(TagFilter{});
}

// ---------------------------------------------------------------- hash index

uint64_t TranslationCache::hash_of(bool global, uint32_t pasid, uint32_t domain, uint64_t base,
                                   unsigned log2) const {
  // base has at least 12 zero low bits, which carry the size class and global flag.
  uint64_t k1 = base ^ (static_cast<uint64_t>(log2) << 1) ^ (global ? 1 : 0);
  uint64_t k2 = (static_cast<uint64_t>(domain) << 32) | (global ? 0 : pasid);
  uint64_t h = (k1 ^ (k2 * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 29);
}

uint64_t TranslationCache::hash_of(const TranslationEntry& e) const {
  return hash_of(e.global, e.pasid, e.domain, e.base, e.log2_size);
}

void TranslationCache::index_insert(uint32_t slot) {
  const uint64_t h = hash_of(entries_[slot]);
  size_t i = h >> bucket_shift_;
  while (buckets_[i].slot != kNone) i = (i + 1) & bucket_mask_;
  buckets_[i] = {slot, static_cast<uint32_t>(h >> 32)};
}

void TranslationCache::index_erase(uint32_t slot) {
  size_t i = hash_of(entries_[slot]) >> bucket_shift_;
  while (buckets_[i].slot != slot) {
    assert(buckets_[i].slot != kNone);
    i = (i + 1) & bucket_mask_;
  }
  // Backward-shift deletion: pull later members of the probe run into the hole
  // unless their home bucket lies cyclically in (hole, position].
  size_t j = i;
  for (;;) {
    j = (j + 1) & bucket_mask_;
    const Bucket b = buckets_[j];
    if (b.slot == kNone) break;
    const size_t home = home_of(b.hash_hi);
    bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      buckets_[i] = b;
      i = j;
    }
  }
  buckets_[i] = {kNone, 0};
}

// ---------------------------------------------------------------- recency lists

void TranslationCache::unlink(uint32_t node) {
  Link& l = links_[node];
  links_[l.prev].next = l.next;
  links_[l.next].prev = l.prev;
}

void TranslationCache::push_front(uint32_t set, uint32_t node) {
  uint32_t s = sentinel(set);
  uint32_t head = links_[s].next;
  links_[node] = {s, head};
  links_[head].prev = node;
  links_[s].next = node;
}

void TranslationCache::push_back(uint32_t set, uint32_t node) {
  uint32_t s = sentinel(set);
  uint32_t tail = links_[s].prev;
  links_[node] = {tail, s};
  links_[tail].next = node;
  links_[s].prev = node;
}

// ---------------------------------------------------------------- bookkeeping

void TranslationCache::count_class(const TranslationEntry& e, int delta) {
  int g = e.global ? 1 : 0;
  uint32_t& c = count_[g][e.log2_size];
  c = static_cast<uint32_t>(static_cast<int64_t>(c) + delta);
  uint64_t bit = uint64_t{1} << (e.log2_size - kMinLog2);
  if (c) {
    present_[g] |= bit;
  } else {
    present_[g] &= ~bit;
  }
}

uint64_t TranslationCache::next_random() {
  // splitmix64: the same sequence on every platform for a given seed.
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace iosim
