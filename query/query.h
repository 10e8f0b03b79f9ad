// query/query.h — the live engine: rolling windows over the newest points of every series.
//
// Purpose: for every numeric series, the aggregates of its last 5 minutes, 1 hour and 24 hours
// (count, mean, min, max, standard deviation) and its newest value and time, kept current by
// the ingest path and readable from any thread without locks.
//
// Windows: a window ends at the series' newest timestamp T (event time, not the wall clock: a
// series that stops reporting keeps its last windows, and T says how old they are). Each window
// is a ring of slots aligned to multiples of the slot width since the epoch:
//   5 min = 30 slots of 10 s,  1 h = 60 slots of 1 min,  24 h = 24 slots of 1 h,
// and holds the points with  floor(T / width) * width - (slots - 1) * width <= ts <= T,
// that is the slot holding T and the slots - 1 before it. Window::from_ns names that start.
//
// Exactness: after any stream of appended points a window equals the aggregate of the stored
// points in its range (count, min, max and last exactly; sums up to floating-point rounding).
// An in-order point (newer than T) is added; a point at or before T (out of order, or
// rewriting a timestamp, where the last write wins) makes its slot be re-read from storage,
// which already holds the point and has resolved duplicates. This relies on one writer at a
// time per series, which the ingest path gives for one sender per series; two senders writing
// the same series at the same instant can count a point twice in one slot until it expires.
//
// Threading: Apply may be called from any number of threads; calls serialise per shard of
// series (16 shards, a mutex each), so a series has one writer at a time. Read never locks:
// each series publishes its windows under a seqlock (an atomic sequence, odd while the writer
// updates relaxed-atomic fields; a reader retries until it sees the same even sequence before
// and after its copy). The series index is two levels of atomic pointers, filled once and
// never freed while the Windows lives.
//
// Ownership: the Storage must outlive the Windows.
//
// Errors: nothing throws across this header. Apply and Rebuild fail only on storage errors;
// string series and series ids past kMaxSeriesPerTenant are not tracked.
//
// Cost: an in-order point is O(1) per window (a slot that expires is subtracted; min and max
// are recomputed over the ring only when the expiring slot held one of them). Memory is about
// 5 KB per tracked series.
#pragma once

#include "storage/storage.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

namespace foresight::query {

enum class Span : uint8_t { k5m = 0, k1h = 1, k24h = 2 };
inline constexpr size_t kSpans = 3;
struct SpanShape {
  std::string_view name;  // "5m", "1h", "24h"
  int64_t width_ns;       // one slot
  int slots;
};
inline constexpr std::array<SpanShape, kSpans> kSpanShapes = {{
    {"5m", 10'000'000'000, 30},
    {"1h", 60'000'000'000, 60},
    {"24h", 3'600'000'000'000, 24},
}};

// Tracked series per tenant: ids 1 .. kMaxSeriesPerTenant - 1.
inline constexpr uint32_t kMaxSeriesPerTenant = 1u << 22;

struct Window {
  int64_t from_ns = 0;  // the window's first admissible timestamp
  uint64_t count = 0;
  double sum = 0, sum_squares = 0;
  double min = 0, max = 0;  // meaningful when count > 0
  double mean() const { return count ? sum / static_cast<double>(count) : 0; }
  // Population standard deviation.
  double stddev() const;
};

struct SeriesWindows {
  int64_t last_ts_ns = 0;  // T, the newest point
  double last = 0;         // its value
  std::array<Window, kSpans> windows;
  const Window& operator[](Span s) const { return windows[static_cast<size_t>(s)]; }
};

class Windows {
 public:
  // `storage` must outlive the Windows.
  explicit Windows(storage::Storage* storage);
  ~Windows();
  Windows(const Windows&) = delete;
  Windows& operator=(const Windows&) = delete;

  // Folds in samples that storage->Append(tenant, samples) has just made durable.
  Status Apply(storage::TenantId tenant, std::span<const storage::Sample> samples);

  // The series' windows, or nullopt when it has no tracked point. Lock-free.
  std::optional<SeriesWindows> Read(storage::TenantId tenant, storage::SeriesId series) const;

  // Sets every numeric series of `tenant` from storage (its newest point, then each window's
  // slots from ReadDownsampled, so rollups rather than raw points where they exist). Call on
  // start, before Apply sees that tenant's writes.
  Status Rebuild(storage::TenantId tenant);

  // Series tracked, over all tenants.
  size_t tracked() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foresight::query
