// Statistics: a tree of named groups holding counters, averages, latency histograms
// and derived values, dumped as one JSON document.
//
// A module's group is named after its SystemC hierarchy name ("top.iommu.iotlb").
// Registration happens once (usually in the constructor) and returns a reference
// that stays valid for the life of the registry, so recording is one add:
//
//   StatGroup& g = ctx.stats().group(*this);  // "top.iommu.iotlb", in the module's SimContext
//   Counter& hits = g.counter("hits", "lookups", "lookups that hit");
//   Counter& lookups = g.counter("lookups", "lookups", "all lookups");
//   Histogram& lat = g.histogram("inv_latency", "invalidation request to completion");
//   g.ratio("hit_rate", "hits / lookups", hits, lookups);
//   ...
//   hits.inc();  lat.sample(done - start);           // hot path
//
// JSON layout: nested objects by hierarchy. A group's object lists its stats in
// registration order, then its child groups sorted by name. Each stat is an object
// whose first member is "kind" ("counter", "average", "histogram", "formula"), then
// "unit" and "desc", then its values; a value that is undefined (mean of nothing,
// x/0) is null.
//
// Simplifications: stats live as long as their registry (no unregistering); a
// name may be used once per group, for a stat or a child group, and a second
// registration throws std::invalid_argument. Not thread-safe (SystemC runs
// processes on one host thread).
#pragma once

#include "sc_models/observe/histogram.h"
#include "sc_models/observe/json_fwd.h"
#include "sc_models/timing/sim_time.h"

#include <systemc>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace iosim {

// Base of every statistic: name, unit, one-line description.
class Stat {
 public:
  Stat(std::string name, std::string unit, std::string desc);
  virtual ~Stat() = default;
  Stat(const Stat&) = delete;
  Stat& operator=(const Stat&) = delete;

  const std::string& name() const { return name_; }
  const std::string& unit() const { return unit_; }
  const std::string& desc() const { return desc_; }
  virtual const char* kind() const = 0;
  virtual void reset() = 0;
  // This stat as one JSON object.
  Json json() const;

 protected:
  // Adds the values after "kind", "unit" and "desc".
  virtual void write_values(Json& o) const = 0;

 private:
  std::string name_, unit_, desc_;
};

// A monotonically increasing event count.
class Counter final : public Stat {
 public:
  using Stat::Stat;
  void inc() { ++value_; }
  void add(uint64_t n) { value_ += n; }
  uint64_t value() const { return value_; }
  const char* kind() const override { return "counter"; }
  void reset() override { value_ = 0; }

 protected:
  void write_values(Json& o) const override;

 private:
  uint64_t value_ = 0;
};

// Sum, count, min, max and mean of sampled values (e.g. queue depth at arrival).
class Average final : public Stat {
 public:
  using Stat::Stat;
  void sample(double v) {
    if (count_ == 0 || v < min_) min_ = v;
    if (count_ == 0 || v > max_) max_ = v;
    ++count_;
    sum_ += v;
  }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const;   // NaN when empty
  double max() const;   // NaN when empty
  double mean() const;  // NaN when empty
  const char* kind() const override { return "average"; }
  void reset() override;

 protected:
  void write_values(Json& o) const override;

 private:
  uint64_t count_ = 0;
  double sum_ = 0, min_ = 0, max_ = 0;
};

// Latency distribution in ns: exact count/min/mean/max, percentiles within
// LatencyHistogram::kMaxRelativeError, Linux DMAR decade buckets (see histogram.h).
class Histogram final : public Stat, public LatencyHistogram {
 public:
  Histogram(std::string name, std::string desc) : Stat(std::move(name), "ns", std::move(desc)) {}
  using LatencyHistogram::sample;
  void sample(const sc_core::sc_time& t) {
    // The conversion divides; a repeated duration reuses its result (the scale is fixed).
    if (t.value() != last_ticks_) {
      last_ticks_ = t.value();
      last_ns_ = time_in_ns(t);
    }
    sample(last_ns_);
  }
  const char* kind() const override { return "histogram"; }
  void reset() override { LatencyHistogram::reset(); }

 protected:
  void write_values(Json& o) const override;

 private:
  sc_core::sc_time::value_type last_ticks_ = 0;  // the last converted duration...
  double last_ns_ = 0;                           // ...in ns (0 ticks = 0 ns)
};

// A value computed when it is read or dumped (e.g. hit rate from two counters).
class Formula final : public Stat {
 public:
  Formula(std::string name, std::string unit, std::string desc, std::function<double()> fn);
  double value() const { return fn_(); }
  const char* kind() const override { return "formula"; }
  void reset() override {}

 protected:
  void write_values(Json& o) const override;

 private:
  std::function<double()> fn_;
};

// A named node of the stats tree.
class StatGroup {
 public:
  explicit StatGroup(std::string path);
  StatGroup(const StatGroup&) = delete;
  StatGroup& operator=(const StatGroup&) = delete;

  const std::string& path() const { return path_; }  // dotted; "" for the root

  // Child group by relative dotted path ("iotlb" or "iotlb.set0"), created on demand.
  StatGroup& group(std::string_view relative_path);

  // Registration. Names are non-empty and contain no '.'; each name once per group.
  Counter& counter(std::string_view name, std::string_view unit, std::string_view desc);
  Average& average(std::string_view name, std::string_view unit, std::string_view desc);
  Histogram& histogram(std::string_view name, std::string_view desc);  // unit: ns
  Formula& formula(std::string_view name, std::string_view unit, std::string_view desc,
                   std::function<double()> fn);
  // num / den at dump time; null while den is 0.
  Formula& ratio(std::string_view name, std::string_view desc, const Counter& num,
                 const Counter& den);

  const Stat* find(std::string_view name) const;  // nullptr if absent
  const StatGroup* find_group(std::string_view name) const;
  const std::vector<std::unique_ptr<Stat>>& stats() const { return stats_; }
  const std::map<std::string, std::unique_ptr<StatGroup>, std::less<>>& groups() const {
    return groups_;
  }

  void reset();  // this group and everything below it
  // This group as one JSON object (see the file comment for the layout).
  Json json() const;
  // Calls fn(dotted stat path, stat) for every stat below, in dump order.
  void for_each(const std::function<void(const std::string&, const Stat&)>& fn) const;

 private:
  template <class T>
  T& add(std::unique_ptr<T> stat);
  void check_new_name(std::string_view name) const;
  StatGroup& child(std::string_view name);

  std::string path_;
  std::vector<std::unique_ptr<Stat>> stats_;
  std::map<std::string, std::unique_ptr<StatGroup>, std::less<>> groups_;
};

// The root of a stats tree. Modules register in the one of the SimContext they are
// given (sc_models/sim/sim_context.h); tests may also create their own.
class StatRegistry {
 public:
  StatRegistry();

  StatGroup& root() { return *root_; }
  const StatGroup& root() const { return *root_; }
  // Group by dotted path ("top.iommu.iotlb"; "" is the root), created on demand.
  StatGroup& group(std::string_view dotted_path);
  StatGroup& group(const char* dotted_path) { return group(std::string_view(dotted_path)); }
  // Group named after the object's SystemC hierarchy name.
  StatGroup& group(const sc_core::sc_object& obj) { return group(std::string_view(obj.name())); }

  // Stat by full dotted path ("top.iommu.iotlb.hits"); nullptr if absent.
  const Stat* find(std::string_view dotted_path) const;
  template <class T>
  const T* find_as(std::string_view dotted_path) const {
    return dynamic_cast<const T*>(find(dotted_path));
  }

  void reset();  // zero every stat (e.g. after warm-up); references stay valid
  Json json() const;
  // The JSON document as text (sc_models/observe/json.h), with a final newline.
  std::string to_json(int indent = 2) const;
  // Writes the JSON document to `file`; throws std::runtime_error if it cannot.
  void write_json_file(const std::string& file, int indent = 2) const;

 private:
  std::unique_ptr<StatGroup> root_;
};

}  // namespace iosim
