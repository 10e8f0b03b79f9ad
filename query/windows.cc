// Windows: per-series slot rings written under a shard mutex, published under a seqlock.
#include "query/query.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <mutex>
#include <numeric>
#include <vector>

namespace foresight::query {
namespace {

constexpr size_t kShards = 16;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// Two levels of atomic pointers indexed by a dense id: lock-free lookups, entries created once
// (compare-and-swap, so racing creators agree) and freed with the directory.
template <typename T, size_t kTop, size_t kLeaf>
class Directory {
 public:
  static constexpr size_t kCapacity = kTop * kLeaf;
  Directory() = default;
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
  ~Directory() {
    for (auto& top : top_) {
      Leaf* leaf = top.load(std::memory_order_acquire);
      if (!leaf) continue;
      for (auto& entry : leaf->at) delete entry.load(std::memory_order_acquire);
      delete leaf;
    }
  }

  T* Find(size_t i) const {
    if (i >= kCapacity) return nullptr;
    const Leaf* leaf = top_[i / kLeaf].load(std::memory_order_acquire);
    return leaf ? leaf->at[i % kLeaf].load(std::memory_order_acquire) : nullptr;
  }

  // The entry at `i`, made by `make()` if there is none; nullptr past the capacity.
  template <typename Make>
  T* FindOrCreate(size_t i, Make make) {
    if (i >= kCapacity) return nullptr;
    Leaf* leaf = Install(top_[i / kLeaf], [] { return new Leaf(); });
    return Install(leaf->at[i % kLeaf], make);
  }

 private:
  struct Leaf {
    std::array<std::atomic<T*>, kLeaf> at{};
  };
  template <typename P, typename Make>
  static P* Install(std::atomic<P*>& slot, Make make) {
    P* current = slot.load(std::memory_order_acquire);
    if (current) return current;
    P* made = make();
    if (slot.compare_exchange_strong(current, made, std::memory_order_acq_rel)) return made;
    delete made;
    return current;
  }
  std::array<std::atomic<Leaf*>, kTop> top_{};
};

constexpr double kInf = std::numeric_limits<double>::infinity();

// A slot's count and sums; its min and max live in the ring's own arrays (see Ring).
struct Slot {
  int64_t index = 0;  // slot number since the epoch
  uint64_t count = 0;
  double sum = 0, squares = 0;
};

struct Totals {
  uint64_t count = 0;
  double sum = 0, squares = 0, min = kInf, max = -kInf;
};

// One window: a ring of slots (writer-only state, kept in the series' own arrays) and the totals
// over them. Invariant: every slot is either in the window (index in (head - n, head]) or empty,
// because advancing the head empties each slot it passes; so an empty slot has count 0, min +inf
// and max -inf, and the window's min and max are plain reductions over the arrays.
struct Ring {
  int64_t width = 0;
  Slot* slots = nullptr;
  double* lo = nullptr;  // each slot's min
  double* hi = nullptr;  // each slot's max
  int64_t n = 0;
  int64_t head = 0;  // the newest slot number
  Totals total;
  // A slot holding the window's min or max expired: total.min and max are recomputed once, when
  // the series is next published, rather than after every point of a batch.
  bool extremes_stale = false;

  int64_t Pos(int64_t index) const { return ((index % n) + n) % n; }
  void Clear(int64_t p, int64_t index) {
    slots[p] = Slot{index, 0, 0, 0};
    lo[p] = kInf;
    hi[p] = -kInf;
  }
  void Start(int64_t index) {
    for (int64_t p = 0; p < n; ++p) Clear(p, 0);
    head = index;
    total = Totals{};
    extremes_stale = false;
  }
  void Recount() {
    total = Totals{};
    for (int64_t p = 0; p < n; ++p) {
      total.count += slots[p].count;
      total.sum += slots[p].sum;
      total.squares += slots[p].squares;
    }
    extremes_stale = true;
    Settle();
  }
  // Min and max only: the sums are kept by subtraction between full recounts.
  void Settle() {
    if (!extremes_stale) return;
    extremes_stale = false;
    double mn = kInf, mx = -kInf;
    for (int64_t p = 0; p < n; ++p) {
      mn = std::min(mn, lo[p]);
      mx = std::max(mx, hi[p]);
    }
    total.min = mn;
    total.max = mx;
  }
  // Moves the head to `index`, expiring the slots that leave the window.
  void Advance(int64_t index) {
    if (index <= head) return;
    if (index - head >= n) {
      Start(index);
      return;
    }
    // A full recount every 64 laps bounds the rounding that subtraction leaves in the sums.
    const bool recount = FloorDiv(index, 64 * n) != FloorDiv(head, 64 * n);
    for (int64_t k = head + 1; k <= index; ++k) {
      const int64_t p = Pos(k);
      const Slot& s = slots[p];
      if (s.count) {
        total.count -= s.count;
        total.sum -= s.sum;
        total.squares -= s.squares;
        extremes_stale |= lo[p] == total.min || hi[p] == total.max;
      }
      Clear(p, k);
    }
    head = index;
    if (recount || total.count == 0) Recount();
  }
  // REQUIRES: index in the window.
  void Add(int64_t index, double v) {
    const int64_t p = Pos(index);
    Slot& s = slots[p];
    if (s.index != index) Clear(p, index);
    ++s.count;
    s.sum += v;
    s.squares += v * v;
    lo[p] = std::min(lo[p], v);
    hi[p] = std::max(hi[p], v);
    ++total.count;
    total.sum += v;
    total.squares += v * v;
    total.min = std::min(total.min, v);
    total.max = std::max(total.max, v);
  }
  // REQUIRES: index in the window.
  void Set(int64_t index, const storage::Bucket* b) {
    const int64_t p = Pos(index);
    Clear(p, index);
    if (b && b->count) {
      slots[p] = Slot{index, b->count, b->sum, b->sum_squares};
      lo[p] = b->min;
      hi[p] = b->max;
    }
  }
};

// What readers see, under the seqlock.
struct Published {
  std::atomic<uint32_t> seq{0};
  std::atomic<int64_t> last_ts{0};
  std::atomic<double> last{0};
  struct W {
    std::atomic<int64_t> from{0};
    std::atomic<uint64_t> count{0};
    std::atomic<double> sum{0}, squares{0}, min{0}, max{0};
  };
  std::array<W, kSpans> w;
};

// The newest distinct timestamps of a series, so a point older than T can be told apart as new
// (added to its slots at once) or a rewrite (its slots re-read from storage). Invariant: every
// stored point of the series with ts >= covered_from is among them.
class Recent {
 public:
  static constexpr uint32_t kSize = 64;
  void Reset(int64_t ts) {
    begin_ = 0;
    size_ = 1;
    ts_[0] = ts;
    covered_from_ = ts;
  }
  // A point newer than every one held.
  void PushNewest(int64_t ts) {
    if (size_ == kSize) Evict();
    ts_[(begin_ + size_++) % kSize] = ts;
  }
  // True when `ts` is known not to be stored yet; then it is taken in.
  bool InsertIfNew(int64_t ts) {
    if (ts < covered_from_) return false;
    // Lower bound over the ring, oldest first.
    uint32_t lo = 0, hi = size_;
    while (lo < hi) {
      const uint32_t mid = (lo + hi) / 2;
      if (At(mid) < ts) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo < size_ && At(lo) == ts) return false;
    if (size_ == kSize) {
      if (lo == 0) {  // older than all it holds: nothing to keep it by
        covered_from_ = ts + 1;
        return true;
      }
      Evict();
      --lo;
    }
    for (uint32_t i = size_; i > lo; --i) At(i) = At(i - 1);
    At(lo) = ts;
    ++size_;
    return true;
  }

 private:
  int64_t& At(uint32_t i) { return ts_[(begin_ + i) % kSize]; }
  void Evict() {
    covered_from_ = At(0) + 1;
    begin_ = (begin_ + 1) % kSize;
    --size_;
  }
  std::array<int64_t, kSize> ts_{};
  uint32_t begin_ = 0, size_ = 0;
  int64_t covered_from_ = 0;
};

constexpr int kAllSlots = [] {
  int n = 0;
  for (const SpanShape& shape : kSpanShapes) n += shape.slots;
  return n;
}();

struct SeriesState {
  SeriesState() {
    size_t next = 0;
    for (size_t i = 0; i < kSpans; ++i) {
      rings[i].width = kSpanShapes[i].width_ns;
      rings[i].slots = &slots[next];
      rings[i].lo = &lo[next];
      rings[i].hi = &hi[next];
      rings[i].n = kSpanShapes[i].slots;
      next += static_cast<size_t>(rings[i].n);
    }
  }
  SeriesState(const SeriesState&) = delete;
  SeriesState& operator=(const SeriesState&) = delete;
  // Writer side, under the shard mutex.
  bool has = false;
  int64_t last_ts = 0;
  double last = 0;
  std::array<Ring, kSpans> rings;
  Recent recent;
  uint64_t touched_by = 0;  // the Apply call that last queued it for publishing
  Published pub;
  std::array<Slot, kAllSlots> slots;
  std::array<double, kAllSlots> lo, hi;

  void Publish() {
    for (Ring& r : rings) r.Settle();
    constexpr auto relaxed = std::memory_order_relaxed;
    const uint32_t seq = pub.seq.load(relaxed);
    pub.seq.store(seq + 1, relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    pub.last_ts.store(last_ts, relaxed);
    pub.last.store(last, relaxed);
    for (size_t i = 0; i < kSpans; ++i) {
      const Ring& r = rings[i];
      Published::W& w = pub.w[i];
      w.from.store((r.head - r.n + 1) * r.width, relaxed);
      w.count.store(r.total.count, relaxed);
      w.sum.store(r.total.sum, relaxed);
      w.squares.store(r.total.squares, relaxed);
      w.min.store(r.total.count ? r.total.min : 0, relaxed);
      w.max.store(r.total.count ? r.total.max : 0, relaxed);
    }
    pub.seq.store(seq + 2, std::memory_order_release);
  }
};

using SeriesIndex = Directory<SeriesState, kMaxSeriesPerTenant / 4096, 4096>;
using TenantIndex = Directory<SeriesIndex, 64, 1024>;

bool Numeric(storage::ValueType t) { return t != storage::ValueType::kString; }

// Prefetches what adding a point at `ts` touches: the writer's fields and, per window, the slot
// of `ts`, whose address follows from the layout alone.
void Prefetch(const SeriesState& s, int64_t ts) {
  const char* fields = reinterpret_cast<const char*>(&s);
  for (size_t at = 0; at < offsetof(SeriesState, pub); at += 64) __builtin_prefetch(fields + at);
  size_t base = 0;
  for (const SpanShape& shape : kSpanShapes) {
    const int64_t n = shape.slots;
    const size_t p = base + static_cast<size_t>(((FloorDiv(ts, shape.width_ns) % n) + n) % n);
    __builtin_prefetch(&s.slots[p]);
    __builtin_prefetch(&s.lo[p]);
    __builtin_prefetch(&s.hi[p]);
    base += static_cast<size_t>(n);
  }
}

// A slot of one series to re-read from storage.
struct Dirty {
  storage::SeriesId series;
  SeriesState* state;
  size_t ring;
  int64_t index;
  bool operator==(const Dirty&) const = default;
};

struct ApplyScratch {
  std::vector<uint32_t> order;  // sample positions, grouped by shard
  std::vector<uint8_t> shard;   // of each sample
  std::vector<Dirty> dirty;
  std::vector<SeriesState*> touched;
};

}  // namespace

double Window::stddev() const {
  if (!count) return 0;
  const double m = mean();
  return std::sqrt(std::max(0.0, sum_squares / static_cast<double>(count) - m * m));
}

struct Windows::Impl {
  explicit Impl(storage::Storage* s) : storage(s) {}

  SeriesState* State(storage::TenantId tenant, storage::SeriesId series) {
    SeriesIndex* index = tenants.FindOrCreate(tenant, [] { return new SeriesIndex(); });
    if (!index) return nullptr;
    return index->FindOrCreate(series, [this] {
      tracked.fetch_add(1, std::memory_order_relaxed);
      return new SeriesState();
    });
  }
  static size_t ShardOf(storage::TenantId tenant, storage::SeriesId series) {
    return ((uint64_t{tenant} << 32 | series) * 0x9E3779B97F4A7C15ull) >> 60;
  }
  // Sets slot `index` of ring `r` from storage. REQUIRES: the series' shard mutex.
  Status Reread(storage::TenantId tenant, storage::SeriesId series, SeriesState* s, size_t r,
                int64_t index) {
    Ring& ring = s->rings[r];
    if (index <= ring.head - ring.n) return Status::OK();  // left the window since
    auto buckets =
        storage->ReadDownsampled(tenant, series, index * ring.width, (index + 1) * ring.width,
                                 std::chrono::nanoseconds(ring.width));
    if (!buckets.ok()) return buckets.status();
    ring.Set(index, buckets->empty() ? nullptr : &buckets->front());
    ring.Recount();
    if (r == 0 && index == ring.head && !buckets->empty()) s->last = buckets->front().last;
    return Status::OK();
  }

  storage::Storage* const storage;
  std::atomic<uint64_t> calls{0};
  TenantIndex tenants;
  std::array<std::mutex, kShards> shards;
  std::atomic<size_t> tracked{0};
};

Windows::Windows(storage::Storage* storage) : impl_(std::make_unique<Impl>(storage)) {}
Windows::~Windows() = default;

Status Windows::Apply(storage::TenantId tenant, std::span<const storage::Sample> samples) {
  // Grouped by shard (a counting sort, so in order within each) so that each mutex is taken
  // once per call; the scratch is kept per thread because this runs on every write.
  thread_local ApplyScratch scratch;
  auto& [order, shard, dirty, touched] = scratch;
  std::array<uint32_t, kShards + 1> start{};
  shard.resize(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    shard[i] = static_cast<uint8_t>(Impl::ShardOf(tenant, samples[i].series));
    ++start[shard[i] + 1];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  order.resize(samples.size());
  std::array<uint32_t, kShards> next;
  std::copy_n(start.begin(), kShards, next.begin());
  for (size_t i = 0; i < samples.size(); ++i) order[next[shard[i]]++] = static_cast<uint32_t>(i);

  const uint64_t call = impl_->calls.fetch_add(1, std::memory_order_relaxed) + 1;
  const SeriesIndex* index = impl_->tenants.Find(tenant);
  for (size_t sh = 0; sh < kShards; ++sh) {
    const size_t begin = start[sh], end = start[sh + 1];
    if (begin == end) continue;
    std::lock_guard lock(impl_->shards[sh]);
    dirty.clear();
    touched.clear();
    for (size_t k = begin; k < end; ++k) {
      // The series states are far apart in memory: fetch the lines a later sample will touch.
      if (constexpr size_t kAhead = 16; index && k + kAhead < end) {
        const storage::Sample& later = samples[order[k + kAhead]];
        if (const SeriesState* p = index->Find(later.series)) Prefetch(*p, later.ts_ns);
      }
      const storage::Sample& sample = samples[order[k]];
      if (!Numeric(sample.value.type)) continue;
      SeriesState* s = impl_->State(tenant, sample.series);
      if (!s) continue;
      const double v = sample.value.AsDouble();
      const int64_t ts = sample.ts_ns;
      if (s->touched_by != call) {
        s->touched_by = call;
        touched.push_back(s);
      }
      if (!s->has || ts > s->last_ts) {
        for (Ring& r : s->rings) {
          const int64_t index = FloorDiv(ts, r.width);
          if (s->has) {
            r.Advance(index);
          } else {
            r.Start(index);
          }
          r.Add(index, v);
        }
        if (s->has) {
          s->recent.PushNewest(ts);
        } else {
          s->recent.Reset(ts);
        }
        s->has = true;
        s->last_ts = ts;
        s->last = v;
        continue;
      }
      // Before T and known to be new (points from concurrent requests interleave): added to
      // the slots still in each window.
      if (s->recent.InsertIfNew(ts)) {
        for (Ring& r : s->rings) {
          const int64_t index = FloorDiv(ts, r.width);
          if (index > r.head - r.n) r.Add(index, v);
        }
        continue;
      }
      // A rewrite, or too old to tell: its slot is read back from storage.
      for (size_t r = 0; r < kSpans; ++r) {
        const Ring& ring = s->rings[r];
        const int64_t index = FloorDiv(ts, ring.width);
        const Dirty d{sample.series, s, r, index};
        if (index > ring.head - ring.n && std::find(dirty.begin(), dirty.end(), d) == dirty.end()) {
          dirty.push_back(d);
        }
      }
    }
    for (const Dirty& d : dirty) {
      if (Status st = impl_->Reread(tenant, d.series, d.state, d.ring, d.index); !st.ok()) {
        for (SeriesState* s : touched) s->Publish();
        return st;
      }
    }
    for (SeriesState* s : touched) s->Publish();
  }
  return Status::OK();
}

std::optional<SeriesWindows> Windows::Read(storage::TenantId tenant,
                                           storage::SeriesId series) const {
  const SeriesIndex* index = impl_->tenants.Find(tenant);
  const SeriesState* s = index ? index->Find(series) : nullptr;
  if (!s) return std::nullopt;
  constexpr auto relaxed = std::memory_order_relaxed;
  const Published& p = s->pub;
  SeriesWindows out;
  for (;;) {
    const uint32_t before = p.seq.load(std::memory_order_acquire);
    if (before == 0) return std::nullopt;  // created, not yet published
    if (before & 1) continue;
    out.last_ts_ns = p.last_ts.load(relaxed);
    out.last = p.last.load(relaxed);
    for (size_t i = 0; i < kSpans; ++i) {
      const Published::W& w = p.w[i];
      Window& o = out.windows[i];
      o.from_ns = w.from.load(relaxed);
      o.count = w.count.load(relaxed);
      o.sum = w.sum.load(relaxed);
      o.sum_squares = w.squares.load(relaxed);
      o.min = w.min.load(relaxed);
      o.max = w.max.load(relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (p.seq.load(relaxed) == before) return out;
  }
}

Status Windows::Rebuild(storage::TenantId tenant) {
  for (const storage::SeriesInfo& info : impl_->storage->ListSeries(tenant)) {
    if (!Numeric(info.type)) continue;
    auto latest = impl_->storage->ReadLatest(tenant, info.id);
    if (!latest.ok()) {
      if (latest.status().code() == Status::Code::kNotFound) continue;
      return latest.status();
    }
    if (latest->size() == 0) continue;
    std::lock_guard lock(impl_->shards[Impl::ShardOf(tenant, info.id)]);
    SeriesState* s = impl_->State(tenant, info.id);
    if (!s) continue;
    const int64_t t = latest->ts_ns[0];
    for (Ring& r : s->rings) {
      r.Start(FloorDiv(t, r.width));
      auto buckets = impl_->storage->ReadDownsampled(tenant, info.id, (r.head - r.n + 1) * r.width,
                                                     t + 1, std::chrono::nanoseconds(r.width));
      if (!buckets.ok()) return buckets.status();
      for (const storage::Bucket& b : *buckets) r.Set(FloorDiv(b.start_ns, r.width), &b);
      r.Recount();
    }
    s->has = true;
    s->last_ts = t;
    s->last = latest->AsDouble(0);
    s->recent.Reset(t);
    s->Publish();
  }
  return Status::OK();
}

size_t Windows::tracked() const { return impl_->tracked.load(std::memory_order_relaxed); }

}  // namespace foresight::query
