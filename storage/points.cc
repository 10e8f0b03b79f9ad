// Point sets: sorting, merging and cutting the columns of Points.
#include "storage/engine.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace foresight::storage {

void PushPoint(Points* out, const Points& from, size_t i) {
  out->ts_ns.push_back(from.ts_ns[i]);
  out->bits.push_back(from.bits[i]);
  if (from.type == ValueType::kString) out->strings.push_back(from.strings[i]);
}

size_t NewestIndex(const Points& points) {
  size_t best = std::string::npos;
  for (size_t i = 0; i < points.size(); ++i) {
    if (best == std::string::npos || points.ts_ns[i] >= points.ts_ns[best]) best = i;
  }
  return best;
}

bool IsSortedUnique(const Points& p) {
  return std::adjacent_find(p.ts_ns.begin(), p.ts_ns.end(), std::greater_equal<int64_t>()) ==
         p.ts_ns.end();
}

void SortUnique(Points* p) {
  if (IsSortedUnique(*p)) return;
  size_t n = p->size();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [p](uint32_t a, uint32_t b) { return p->ts_ns[a] < p->ts_ns[b]; });
  Points out;
  out.type = p->type;
  for (size_t k = 0; k < n; ++k) {
    uint32_t i = order[k];
    if (k + 1 < n && p->ts_ns[order[k + 1]] == p->ts_ns[i]) continue;
    PushPoint(&out, *p, i);
  }
  *p = std::move(out);
}

Points MergeNewerWins(const Points& older, const Points& newer) {
  if (older.size() == 0) return newer;
  if (newer.size() == 0) return older;
  Points out;
  out.type = newer.type;
  out.ts_ns.reserve(older.size() + newer.size());
  out.bits.reserve(older.size() + newer.size());
  size_t i = 0, j = 0;
  while (i < older.size() || j < newer.size()) {
    if (j == newer.size() || (i < older.size() && older.ts_ns[i] < newer.ts_ns[j])) {
      PushPoint(&out, older, i++);
    } else {
      if (i < older.size() && older.ts_ns[i] == newer.ts_ns[j]) ++i;
      PushPoint(&out, newer, j++);
    }
  }
  return out;
}

void AppendRange(const Points& from, int64_t lo, int64_t hi, Points* out) {
  auto begin = std::lower_bound(from.ts_ns.begin(), from.ts_ns.end(), lo);
  auto end = std::lower_bound(begin, from.ts_ns.end(), hi);
  for (size_t i = begin - from.ts_ns.begin(); i < static_cast<size_t>(end - from.ts_ns.begin());
       ++i) {
    PushPoint(out, from, i);
  }
}

size_t PointBytes(const Sample& s) { return 16 + s.value.str.size(); }

}  // namespace foresight::storage
