#include "storage/keys.h"

namespace foresight::storage {

std::string EncodeSeriesKey(const SeriesKey& key) {
  std::string out;
  auto put = [&out](std::string_view s) {
    PutVarint64(&out, s.size());
    out.append(s);
  };
  put(key.measurement);
  PutVarint64(&out, key.tags.size());
  for (const auto& [k, v] : key.tags) {
    put(k);
    put(v);
  }
  put(key.field);
  return out;
}

bool DecodeSeriesKey(std::string_view data, SeriesKey* key) {
  ByteReader r(data);
  auto get = [&r](std::string* s) {
    uint64_t len;
    std::string_view bytes;
    if (!r.ReadVarint64(&len) || !r.ReadBytes(len, &bytes)) return false;
    s->assign(bytes);
    return true;
  };
  uint64_t tags;
  if (!get(&key->measurement) || !r.ReadVarint64(&tags) || tags > data.size()) return false;
  key->tags.resize(tags);
  for (auto& [k, v] : key->tags) {
    if (!get(&k) || !get(&v)) return false;
  }
  return get(&key->field) && r.empty();
}

}  // namespace foresight::storage
