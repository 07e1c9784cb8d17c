// Host cost of TranslationCache operations: lookups that hit and miss in 64- and
// 2048-entry caches, fully and set associative, with only 4K entries present or
// with 4K/2M/1G and global entries mixed (so a lookup probes several size classes);
// plus, for reference, fills that evict, PASID-wide invalidations of a full cache
// and page invalidations that find nothing: without a domain (the full scan) and
// with domain and PASID named (index probes).
//
// Run: translation_cache_bench [--benchmark_filter=Lookup] (Release build).
// No SystemC kernel is involved; libsystemc provides main() and calls sc_main().
#include <benchmark/benchmark.h>

#include <cstdint>
#include <systemc>  // declares sc_main with the linkage libsystemc expects
#include <vector>

#include "sc_models/cache/translation_cache.h"

namespace {

using iosim::TranslationCache;
using iosim::TranslationCacheConfig;
using iosim::TranslationEntry;
using iosim::TranslationTag;

constexpr uint64_t k4K = 1ull << 12;
constexpr uint32_t kPasid = 7;

TranslationCacheConfig shape(const benchmark::State& st) {
  TranslationCacheConfig c;
  c.sets = static_cast<uint32_t>(st.range(0));
  c.ways = static_cast<uint32_t>(st.range(1));
  return c;
}

TranslationEntry page(uint64_t base, unsigned log2 = 12, bool global = false) {
  TranslationEntry e;
  e.pasid = kPasid;
  e.base = base;
  e.log2_size = static_cast<uint8_t>(log2);
  e.global = global;
  e.target = base ^ 0x100000000000ull;
  return e;
}

// Fills every way of every set. With mixed sizes, a quarter of the entries are
// 2M pages (a third of which are global) and a few are 1G pages, placed above the
// 4K pages. Returns one VA inside each entry.
std::vector<uint64_t> fill(TranslationCache& c, bool mixed) {
  const uint64_t n = c.capacity();
  std::vector<uint64_t> vas;
  const uint64_t n4k = mixed ? n - n / 4 : n;
  for (uint64_t i = 0; i < n4k; ++i) {
    c.insert(page(i * k4K));
    vas.push_back(i * k4K + 0x10);
  }
  for (uint64_t i = n4k; i < n; ++i) {
    bool huge = (i % 16) == 0;
    unsigned log2 = huge ? 30 : 21;
    uint64_t base = (1ull << 40) + (i << log2);
    c.insert(page(base, log2, i % 3 == 0));
    vas.push_back(base + 0x1234);
  }
  return vas;
}

// A fixed permutation so consecutive lookups touch unrelated entries.
std::vector<uint64_t> shuffled(std::vector<uint64_t> v) {
  uint64_t x = 0x2545F4914F6CDD1Dull;
  for (size_t i = v.size(); i > 1; --i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::swap(v[i - 1], v[x % i]);
  }
  return v;
}

void BM_LookupHit(benchmark::State& st) {
  TranslationCache c(shape(st));
  std::vector<uint64_t> vas = shuffled(fill(c, st.range(2) != 0));
  if (c.size() != c.capacity()) st.SkipWithError("cache not full after fill");
  const TranslationTag tag{kPasid, 0};
  size_t i = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(c.lookup(tag, vas[i]));
    if (++i == vas.size()) i = 0;
  }
  if (c.stats().misses != 0) st.SkipWithError("a hit lookup missed");
  st.counters["entries"] = static_cast<double>(c.capacity());
}

void BM_LookupMiss(benchmark::State& st) {
  TranslationCache c(shape(st));
  std::vector<uint64_t> vas = fill(c, st.range(2) != 0);
  // Same pages under another PASID, and pages beyond the filled range.
  const TranslationTag other{kPasid + 1, 0};
  for (uint64_t& va : vas) va += 1ull << 45;
  vas = shuffled(vas);
  size_t i = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(c.lookup(other, vas[i]));
    if (++i == vas.size()) i = 0;
  }
  if (c.stats().hits != 0) st.SkipWithError("a miss lookup hit");
  st.counters["entries"] = static_cast<double>(c.capacity());
}

void BM_InsertEvict(benchmark::State& st) {
  TranslationCache c(shape(st));
  fill(c, false);
  uint64_t next = c.capacity();
  for (auto _ : st) benchmark::DoNotOptimize(c.insert(page((next++) * k4K)));
  st.counters["entries"] = static_cast<double>(c.capacity());
}

void BM_InvalidatePasid(benchmark::State& st) {
  TranslationCache c(shape(st));
  const size_t n = c.capacity();
  for (auto _ : st) {
    st.PauseTiming();
    fill(c, false);
    st.ResumeTiming();
    if (c.invalidate_pasid(kPasid) != n) st.SkipWithError("invalidation missed entries");
  }
  st.counters["entries"] = static_cast<double>(n);
}

// The common case of a page-selective flush: one page that is not cached, so the
// cost is the scan of the whole array.
void BM_InvalidateUncachedPage(benchmark::State& st) {
  TranslationCache c(shape(st));
  fill(c, false);
  iosim::TagFilter f;
  f.pasid = kPasid;
  for (auto _ : st) benchmark::DoNotOptimize(c.invalidate_va(1ull << 45, f));
  if (c.size() != c.capacity()) st.SkipWithError("an uncached page removed entries");
  st.counters["entries"] = static_cast<double>(c.capacity());
}

// The same flush as the IOMMU issues it, naming the domain and the PASID (a PASID-
// based page-selective IOTLB invalidation): index probes for the page's blocks
// instead of the scan (with mixed sizes: one per size class present).
void BM_InvalidateUncachedPageTagged(benchmark::State& st) {
  TranslationCache c(shape(st));
  fill(c, st.range(2) != 0);
  iosim::TagFilter f;
  f.domain = 0;
  f.pasid = kPasid;
  f.global = iosim::GlobalEntries::kRemove;
  for (auto _ : st) benchmark::DoNotOptimize(c.invalidate_va(1ull << 45, f));
  if (c.size() != c.capacity()) st.SkipWithError("an uncached page removed entries");
  st.counters["entries"] = static_cast<double>(c.capacity());
}

// sets, ways, mixed sizes: 64 entries fully associative and 16x4; 2048 entries fully
// associative and 256x8.
void lookup_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"sets", "ways", "mixed"});
  for (int mixed : {0, 1}) {
    b->Args({1, 64, mixed})->Args({16, 4, mixed})->Args({1, 2048, mixed})->Args({256, 8, mixed});
  }
}

void fill_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"sets", "ways"});
  b->Args({1, 64})->Args({16, 4})->Args({1, 2048})->Args({256, 8});
}

BENCHMARK(BM_LookupHit)->Apply(lookup_shapes);
BENCHMARK(BM_LookupMiss)->Apply(lookup_shapes);
BENCHMARK(BM_InsertEvict)->Apply(fill_shapes);
BENCHMARK(BM_InvalidatePasid)->Apply(fill_shapes);
BENCHMARK(BM_InvalidateUncachedPage)->Apply(fill_shapes);
BENCHMARK(BM_InvalidateUncachedPageTagged)->Apply(lookup_shapes);

}  // namespace

int sc_main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
