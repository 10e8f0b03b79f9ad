// Windows: per-series slot rings written under a shard mutex, published under a seqlock.
#include "query/query.h"
#include "storage/sync.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <tuple>
#include <utility>
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

// A slot's count and sums. Its min and max are kept apart (Extremes) so that the window's min
// and max are a reduction over one dense array.
struct Slot {
  uint64_t count = 0;
  double sum = 0, squares = 0;
};

struct Extremes {
  double lo = kInf, hi = -kInf;
};

struct Totals {
  uint64_t count = 0;
  double sum = 0, squares = 0, min = kInf, max = -kInf;
};

// One window of a series: a ring of slots and the totals over them (writer-only state). The
// shape is a compile-time constant, so slot arithmetic compiles to multiplications, and the
// slots sit right after the totals, so a point touches few cache lines. Invariant: every slot is
// either in the window (number in (head - kSlots, head]) or empty, because advancing the head
// empties each slot it passes; so a slot's number follows from its position, an empty slot has
// count 0, min +inf and max -inf, and the window's min and max are plain reductions.
template <size_t kSpanIndex>
struct Ring {
  static constexpr size_t kSpan = kSpanIndex;
  static constexpr int64_t kWidth = kSpanShapes[kSpan].width_ns;
  static constexpr int64_t kSlots = kSpanShapes[kSpan].slots;

  int64_t head = 0;  // the newest slot number
  Totals total;
  // A slot holding the window's min or max expired: total.min and max are recomputed once, when
  // the series is next published, rather than after every point of a batch.
  bool extremes_stale = false;
  std::array<Slot, kSlots> slots{};
  std::array<Extremes, kSlots> extremes{};

  static int64_t Number(int64_t ts) { return FloorDiv(ts, kWidth); }
  static size_t Pos(int64_t number) {
    return static_cast<size_t>(((number % kSlots) + kSlots) % kSlots);
  }
  bool InWindow(int64_t number) const { return number > head - kSlots; }
  int64_t from_ns() const { return (head - kSlots + 1) * kWidth; }

  void Start(int64_t number) {
    slots.fill(Slot{});
    extremes.fill(Extremes{});
    head = number;
    total = Totals{};
    extremes_stale = false;
  }
  void Recount() {
    total = Totals{};
    for (const Slot& s : slots) {
      total.count += s.count;
      total.sum += s.sum;
      total.squares += s.squares;
    }
    extremes_stale = true;
    Settle();
  }
  // Min and max only: the sums are kept by subtraction between full recounts.
  void Settle() {
    if (!extremes_stale) return;
    extremes_stale = false;
    double mn = kInf, mx = -kInf;
    for (const Extremes& e : extremes) {
      mn = std::min(mn, e.lo);
      mx = std::max(mx, e.hi);
    }
    total.min = mn;
    total.max = mx;
  }
  // Moves the head to `number`, expiring the slots that leave the window.
  void Advance(int64_t number) {
    if (number <= head) return;
    if (number - head >= kSlots) {
      Start(number);
      return;
    }
    // A full recount every 64 laps bounds the rounding that subtraction leaves in the sums.
    const bool recount = FloorDiv(number, 64 * kSlots) != FloorDiv(head, 64 * kSlots);
    for (int64_t k = head + 1; k <= number; ++k) {
      const size_t p = Pos(k);
      const Slot& s = slots[p];
      if (s.count) {
        total.count -= s.count;
        total.sum -= s.sum;
        total.squares -= s.squares;
        extremes_stale |= extremes[p].lo == total.min || extremes[p].hi == total.max;
        slots[p] = Slot{};
        extremes[p] = Extremes{};
      }
    }
    head = number;
    if (recount || total.count == 0) Recount();
  }
  // REQUIRES: InWindow(number).
  void Add(int64_t number, double v) {
    const size_t p = Pos(number);
    Slot& s = slots[p];
    ++s.count;
    s.sum += v;
    s.squares += v * v;
    extremes[p].lo = std::min(extremes[p].lo, v);
    extremes[p].hi = std::max(extremes[p].hi, v);
    ++total.count;
    total.sum += v;
    total.squares += v * v;
    total.min = std::min(total.min, v);
    total.max = std::max(total.max, v);
  }
  // REQUIRES: InWindow(number).
  void Set(int64_t number, const storage::Bucket* b) {
    const size_t p = Pos(number);
    const bool some = b && b->count;
    slots[p] = some ? Slot{b->count, b->sum, b->sum_squares} : Slot{};
    extremes[p] = some ? Extremes{b->min, b->max} : Extremes{};
  }
  // What adding a point at `ts`, and a few after it, touches: the totals, the point's slot and
  // the next few (a request often brings several points of a series, one slot apart).
  void Prefetch(int64_t ts) const {
    const int64_t number = Number(ts);
    __builtin_prefetch(this, 1);
    for (int64_t k = 0; k < 5; k += 2) __builtin_prefetch(&slots[Pos(number + k)], 1);
    __builtin_prefetch(&extremes[Pos(number)], 1);
    __builtin_prefetch(&extremes[Pos(number + 4)], 1);
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
  static constexpr uint32_t kSize = 256;
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
  // What the next PushNewest touches.
  void Prefetch() const {
    __builtin_prefetch(&ts_[begin_], 1);
    __builtin_prefetch(&ts_[(begin_ + size_) % kSize], 1);
  }
  bool InsertIfNew(int64_t ts) {
    if (ts < covered_from_) return false;
    // Where it goes, searched from the newest: late points are mostly a few steps late, and the
    // entries passed over are the ones that move up to make room.
    uint32_t lo = size_;
    while (lo > 0 && At(lo - 1) > ts) --lo;
    if (lo > 0 && At(lo - 1) == ts) return false;
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
  // The bookkeeping first: it shares the series' first cache line (see SeriesState).
  uint32_t begin_ = 0, size_ = 0;
  int64_t covered_from_ = 0;
  std::array<int64_t, kSize> ts_{};
};

// Writer-only fields first and together (one cache line for the point's bookkeeping, one per
// window for its totals and slot), what readers see last.
struct alignas(64) SeriesState {
  // Writer side, under the shard mutex.
  bool has = false;
  int64_t last_ts = 0;
  double last = 0;
  Recent recent;
  std::tuple<Ring<0>, Ring<1>, Ring<2>> rings;
  Published pub;

  template <typename F>
  void ForEachRing(F&& f) {
    std::apply([&](auto&... r) { (f(r), ...); }, rings);
  }
  template <typename F>
  void ForEachRing(F&& f) const {
    std::apply([&](const auto&... r) { (f(r), ...); }, rings);
  }

  void Prefetch(int64_t ts) const {
    __builtin_prefetch(this, 1);
    ForEachRing([ts](const auto& r) { r.Prefetch(ts); });
    __builtin_prefetch(&pub, 1);
  }

  void Publish() {
    ForEachRing([](auto& r) { r.Settle(); });
    constexpr auto relaxed = std::memory_order_relaxed;
    const uint32_t seq = pub.seq.load(relaxed);
    pub.seq.store(seq + 1, relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    pub.last_ts.store(last_ts, relaxed);
    pub.last.store(last, relaxed);
    ForEachRing([this](const auto& r) {
      Published::W& w = pub.w[r.kSpan];
      w.from.store(r.from_ns(), relaxed);
      w.count.store(r.total.count, relaxed);
      w.sum.store(r.total.sum, relaxed);
      w.squares.store(r.total.squares, relaxed);
      w.min.store(r.total.count ? r.total.min : 0, relaxed);
      w.max.store(r.total.count ? r.total.max : 0, relaxed);
    });
    pub.seq.store(seq + 2, std::memory_order_release);
  }
};
static_assert(std::tuple_size_v<decltype(SeriesState::rings)> == kSpans);

using SeriesIndex = Directory<SeriesState, kMaxSeriesPerTenant / 4096, 4096>;
using TenantIndex = Directory<SeriesIndex, 64, 1024>;

bool Numeric(storage::ValueType t) { return t != storage::ValueType::kString; }

// A slot of one series to re-read from storage.
struct Dirty {
  storage::SeriesId series;
  SeriesState* state;
  size_t span;
  int64_t number;  // of the slot
  bool operator==(const Dirty&) const = default;
};

size_t ShardOf(storage::TenantId tenant, storage::SeriesId series) {
  static_assert(kShards == 16);
  return ((uint64_t{tenant} << 32 | series) * 0x9E3779B97F4A7C15ull) >> 60;
}

// A sample's place in Apply's walk: its shard (4 bits) and series (22 bits) above its position
// in the call (32 bits).
constexpr int kSeriesBits = 22;
static_assert(kMaxSeriesPerTenant <= (1u << kSeriesBits));
uint64_t KeyOf(storage::TenantId tenant, storage::SeriesId series, size_t position) {
  return (uint64_t{ShardOf(tenant, series)} << kSeriesBits | series) << 32 |
         static_cast<uint32_t>(position);
}
size_t ShardOfKey(uint64_t key) { return key >> (32 + kSeriesBits); }
storage::SeriesId SeriesOfKey(uint64_t key) {
  return static_cast<storage::SeriesId>(key >> 32 & ((1u << kSeriesBits) - 1));
}
size_t PositionOfKey(uint64_t key) { return static_cast<uint32_t>(key); }

// Sorts keys by shard and series, keeping the positions of each series in order: a
// least-significant-digit radix sort (stable) of three 9-bit digits, using `spare` as the other
// buffer. It beats std::sort about threefold on a request's 40,000 keys.
void SortKeys(std::vector<uint64_t>* keys, std::vector<uint64_t>* spare) {
  if (keys->size() < 256) {
    std::sort(keys->begin(), keys->end());
    return;
  }
  constexpr int kDigitBits = 9, kPasses = 3;
  static_assert(kDigitBits * kPasses >= 4 + kSeriesBits);
  constexpr uint64_t kMask = (1u << kDigitBits) - 1;
  auto digit = [](uint64_t key, int pass) { return key >> (32 + pass * kDigitBits) & kMask; };
  std::array<std::array<uint32_t, kMask + 1>, kPasses> counts{};
  for (uint64_t key : *keys) {
    for (int pass = 0; pass < kPasses; ++pass) ++counts[pass][digit(key, pass)];
  }
  spare->resize(keys->size());
  for (int pass = 0; pass < kPasses; ++pass) {
    auto& count = counts[pass];
    if (count[digit(keys->front(), pass)] == keys->size()) continue;  // one digit for all
    uint32_t next = 0;
    for (uint32_t& c : count) next += std::exchange(c, next);
    for (uint64_t key : *keys) (*spare)[count[digit(key, pass)]++] = key;
    keys->swap(*spare);
  }
}

struct ApplyScratch {
  std::vector<uint64_t> keys, spare;  // KeyOf each numeric sample; SortKeys' other buffer
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
  // Sets the slot of `d` from storage. REQUIRES: the series' shard mutex.
  Status Reread(storage::TenantId tenant, const Dirty& d) {
    Status status;
    d.state->ForEachRing([&](auto& ring) {
      if (ring.kSpan != d.span || !ring.InWindow(d.number)) return;  // or left the window since
      const int64_t width = ring.kWidth;
      auto buckets =
          storage->ReadDownsampled(tenant, d.series, d.number * width, (d.number + 1) * width,
                                   std::chrono::nanoseconds(width));
      if (!buckets.ok()) {
        status = buckets.status();
        return;
      }
      ring.Set(d.number, buckets->empty() ? nullptr : &buckets->front());
      ring.Recount();
      if (ring.kSpan == 0 && d.number == ring.head && !buckets->empty()) {
        d.state->last = buckets->front().last;
      }
    });
    return status;
  }

  storage::Storage* const storage;
  TenantIndex tenants;
  // The writers' side of each shard's series states (one writer per series at a time). The states
  // live in the lock-free index, so no annotation can name them: the shard of a state is computed.
  std::array<Mutex, kShards> shards;
  std::atomic<size_t> tracked{0};
};

Windows::Windows(storage::Storage* storage) : impl_(std::make_unique<Impl>(storage)) {}
Windows::~Windows() = default;

Status Windows::Apply(storage::TenantId tenant, std::span<const storage::Sample> samples) {
  // Sorted by shard, then series, then arrival: each mutex is taken once per call, and each
  // series' state (kilobytes, far apart in memory) is fetched once for all of its samples
  // rather than once per sample. The scratch is kept per thread because this runs on every write.
  thread_local ApplyScratch scratch;
  // References, not a structured binding: the lambdas below capture them (clang 14 cannot
  // capture a binding).
  std::vector<uint64_t>& keys = scratch.keys;
  std::vector<uint64_t>& spare = scratch.spare;
  std::vector<Dirty>& dirty = scratch.dirty;
  std::vector<SeriesState*>& touched = scratch.touched;
  keys.clear();
  for (size_t i = 0; i < samples.size(); ++i) {
    const storage::Sample& sample = samples[i];
    // Past the capacity a series is not tracked (see Directory), and would not fit the key.
    if (Numeric(sample.value.type) && sample.series < kMaxSeriesPerTenant) {
      keys.push_back(KeyOf(tenant, sample.series, i));
    }
  }
  SortKeys(&keys, &spare);

  // Samples and series states are far apart in memory, so the walk fetches ahead in stages,
  // each using what the stage before brought in: the sample 3 * kAhead keys before it is
  // applied, its series' state and slots 2 * kAhead keys before (found through the sample's
  // series and time; once per series), and the state's recent timestamps kAhead keys before
  // (which reads the state, so only in the shard whose mutex is held: keys before `locked_end`).
  constexpr ptrdiff_t kAhead = 8;
  const auto n = static_cast<ptrdiff_t>(keys.size());
  const SeriesIndex* index = impl_->tenants.Find(tenant);
  auto first_of_series = [&](ptrdiff_t j) {
    return j == 0 || SeriesOfKey(keys[j - 1]) != SeriesOfKey(keys[j]);
  };
  auto state_at = [&](ptrdiff_t j) { return index ? index->Find(SeriesOfKey(keys[j])) : nullptr; };
  auto prefetch = [&](ptrdiff_t k, ptrdiff_t locked_end) {  // k: the key about to be applied
    if (ptrdiff_t j = k + 3 * kAhead; j >= 0 && j < n) {
      __builtin_prefetch(&samples[PositionOfKey(keys[j])]);
    }
    if (ptrdiff_t j = k + 2 * kAhead; j >= 0 && j < n && first_of_series(j)) {
      if (const SeriesState* p = state_at(j)) p->Prefetch(samples[PositionOfKey(keys[j])].ts_ns);
    }
    if (ptrdiff_t j = k + kAhead; j >= 0 && j < locked_end && first_of_series(j)) {
      if (const SeriesState* p = state_at(j)) p->recent.Prefetch();
    }
  };
  for (ptrdiff_t k = -3 * kAhead; k < 0; ++k) prefetch(k, 0);

  for (size_t begin = 0; begin < keys.size();) {
    const uint64_t shard = ShardOfKey(keys[begin]);
    size_t end = begin;
    while (end < keys.size() && ShardOfKey(keys[end]) == shard) ++end;
    MutexLock lock(&impl_->shards[shard]);
    dirty.clear();
    touched.clear();
    SeriesState* s = nullptr;
    for (size_t k = begin; k < end; ++k) {
      prefetch(static_cast<ptrdiff_t>(k), static_cast<ptrdiff_t>(end));
      const storage::Sample& sample = samples[PositionOfKey(keys[k])];
      if (first_of_series(static_cast<ptrdiff_t>(k))) {
        s = impl_->State(tenant, sample.series);
        if (s) touched.push_back(s);
      }
      if (!s) continue;
      const double v = sample.value.AsDouble();
      const int64_t ts = sample.ts_ns;
      if (!s->has || ts > s->last_ts) {
        s->ForEachRing([&](auto& r) {
          const int64_t number = r.Number(ts);
          if (s->has) {
            r.Advance(number);
          } else {
            r.Start(number);
          }
          r.Add(number, v);
        });
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
        s->ForEachRing([&](auto& r) {
          if (const int64_t number = r.Number(ts); r.InWindow(number)) r.Add(number, v);
        });
        continue;
      }
      // A rewrite, or too old to tell: its slot is read back from storage.
      s->ForEachRing([&](const auto& r) {
        const Dirty d{sample.series, s, r.kSpan, r.Number(ts)};
        if (r.InWindow(d.number) && std::find(dirty.begin(), dirty.end(), d) == dirty.end()) {
          dirty.push_back(d);
        }
      });
    }
    for (const Dirty& d : dirty) {
      if (Status st = impl_->Reread(tenant, d); !st.ok()) {
        for (SeriesState* t : touched) t->Publish();
        return st;
      }
    }
    for (SeriesState* t : touched) t->Publish();
    begin = end;
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
  for (const storage::SeriesInfo& info : *impl_->storage->SeriesSnapshot(tenant)) {
    if (!Numeric(info.type)) continue;
    auto latest = impl_->storage->ReadLatest(tenant, info.id);
    if (!latest.ok()) {
      if (latest.status().code() == Status::Code::kNotFound) continue;
      return latest.status();
    }
    if (latest->size() == 0) continue;
    MutexLock lock(&impl_->shards[ShardOf(tenant, info.id)]);
    SeriesState* s = impl_->State(tenant, info.id);
    if (!s) continue;
    const int64_t t = latest->ts_ns[0];
    Status status;
    s->ForEachRing([&](auto& r) {
      if (!status.ok()) return;
      r.Start(r.Number(t));
      auto buckets = impl_->storage->ReadDownsampled(tenant, info.id, r.from_ns(), t + 1,
                                                     std::chrono::nanoseconds(r.kWidth));
      if (!buckets.ok()) {
        status = buckets.status();
        return;
      }
      for (const storage::Bucket& b : *buckets) r.Set(r.Number(b.start_ns), &b);
      r.Recount();
    });
    if (!status.ok()) return status;
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
