// Windows: per-series slot rings written under a shard mutex, published under a seqlock.
#include "query/query.h"

#include <algorithm>
#include <atomic>
#include <cmath>
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

struct Slot {
  int64_t index = 0;  // slot number since the epoch; the slot is live when it is in the window
  uint64_t count = 0;
  double sum = 0, squares = 0, min = 0, max = 0;

  void Add(double v) {
    min = count ? std::min(min, v) : v;
    max = count ? std::max(max, v) : v;
    ++count;
    sum += v;
    squares += v * v;
  }
  void Merge(const Slot& o) {
    if (!o.count) return;
    min = count ? std::min(min, o.min) : o.min;
    max = count ? std::max(max, o.max) : o.max;
    count += o.count;
    sum += o.sum;
    squares += o.squares;
  }
};

// One window: a ring of slots (writer-only state) and the totals over its live slots.
struct Ring {
  int64_t width = 0;
  std::vector<Slot> slots;
  int64_t head = 0;  // the newest slot number
  Slot total;

  int64_t n() const { return static_cast<int64_t>(slots.size()); }
  Slot& At(int64_t index) { return slots[static_cast<size_t>(((index % n()) + n()) % n())]; }
  bool Live(const Slot& s) const { return s.count && s.index > head - n() && s.index <= head; }

  void Start(int64_t index) {
    for (Slot& s : slots) s = Slot{};
    head = index;
    total = Slot{};
  }
  void Recount() {
    total = Slot{};
    for (const Slot& s : slots) {
      if (Live(s)) total.Merge(s);
    }
  }
  // Moves the head to `index`, expiring the slots that leave the window.
  void Advance(int64_t index) {
    if (index <= head) return;
    if (index - head >= n()) {
      Start(index);
      return;
    }
    bool extremes = false;
    const bool lap = FloorDiv(index, n()) != FloorDiv(head, n());
    for (int64_t k = head + 1; k <= index; ++k) {
      Slot& s = At(k);
      if (Live(s)) {
        total.count -= s.count;
        total.sum -= s.sum;
        total.squares -= s.squares;
        extremes |= s.min == total.min || s.max == total.max;
      }
      s = Slot{};
      s.index = k;
    }
    head = index;
    // A full recount once a lap bounds the rounding that subtraction leaves in the sums.
    if (extremes || lap || total.count == 0) Recount();
  }
  void Add(int64_t index, double v) {
    Slot& s = At(index);
    if (s.index != index) {
      s = Slot{};
      s.index = index;
    }
    s.Add(v);
    total.Add(v);
  }
  void Set(int64_t index, const storage::Bucket* b) {
    Slot& s = At(index);
    s = Slot{};
    s.index = index;
    if (b && b->count) {
      s.count = b->count;
      s.sum = b->sum;
      s.squares = b->sum_squares;
      s.min = b->min;
      s.max = b->max;
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

struct SeriesState {
  SeriesState() {
    for (size_t i = 0; i < kSpans; ++i) {
      rings[i].width = kSpanShapes[i].width_ns;
      rings[i].slots.resize(static_cast<size_t>(kSpanShapes[i].slots));
    }
  }
  // Writer side, under the shard mutex.
  bool has = false;
  int64_t last_ts = 0;
  double last = 0;
  std::array<Ring, kSpans> rings;
  Published pub;

  void Publish() {
    constexpr auto relaxed = std::memory_order_relaxed;
    const uint32_t seq = pub.seq.load(relaxed);
    pub.seq.store(seq + 1, relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    pub.last_ts.store(last_ts, relaxed);
    pub.last.store(last, relaxed);
    for (size_t i = 0; i < kSpans; ++i) {
      const Ring& r = rings[i];
      Published::W& w = pub.w[i];
      w.from.store((r.head - r.n() + 1) * r.width, relaxed);
      w.count.store(r.total.count, relaxed);
      w.sum.store(r.total.sum, relaxed);
      w.squares.store(r.total.squares, relaxed);
      w.min.store(r.total.min, relaxed);
      w.max.store(r.total.max, relaxed);
    }
    pub.seq.store(seq + 2, std::memory_order_release);
  }
};

using SeriesIndex = Directory<SeriesState, kMaxSeriesPerTenant / 4096, 4096>;
using TenantIndex = Directory<SeriesIndex, 64, 1024>;

bool Numeric(storage::ValueType t) { return t != storage::ValueType::kString; }

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
    if (index <= ring.head - ring.n()) return Status::OK();  // left the window since
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

  for (size_t sh = 0; sh < kShards; ++sh) {
    const size_t begin = start[sh], end = start[sh + 1];
    if (begin == end) continue;
    std::lock_guard lock(impl_->shards[sh]);
    dirty.clear();
    touched.clear();
    for (size_t k = begin; k < end; ++k) {
      const storage::Sample& sample = samples[order[k]];
      if (!Numeric(sample.value.type)) continue;
      SeriesState* s = impl_->State(tenant, sample.series);
      if (!s) continue;
      const double v = sample.value.AsDouble();
      const int64_t ts = sample.ts_ns;
      touched.push_back(s);
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
        s->has = true;
        s->last_ts = ts;
        s->last = v;
        continue;
      }
      // At or before T: it may rewrite a stored point, so its slot is read back.
      for (size_t r = 0; r < kSpans; ++r) {
        const Ring& ring = s->rings[r];
        const int64_t index = FloorDiv(ts, ring.width);
        const Dirty d{sample.series, s, r, index};
        if (index > ring.head - ring.n() &&
            std::find(dirty.begin(), dirty.end(), d) == dirty.end()) {
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
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
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
      auto buckets =
          impl_->storage->ReadDownsampled(tenant, info.id, (r.head - r.n() + 1) * r.width, t + 1,
                                          std::chrono::nanoseconds(r.width));
      if (!buckets.ok()) return buckets.status();
      for (const storage::Bucket& b : *buckets) r.Set(FloorDiv(b.start_ns, r.width), &b);
      r.Recount();
    }
    s->has = true;
    s->last_ts = t;
    s->last = latest->AsDouble(0);
    s->Publish();
  }
  return Status::OK();
}

size_t Windows::tracked() const { return impl_->tracked.load(std::memory_order_relaxed); }

}  // namespace foresight::query
