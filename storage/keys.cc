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

std::string EncodeAssetValue(const Asset& asset) {
  std::string out;
  PutFixed64BE(&out, static_cast<uint64_t>(asset.created_ns));
  PutVarint64(&out, asset.attributes.size());
  for (const auto& [k, v] : asset.attributes) {
    PutVarint64(&out, k.size());
    out.append(k);
    PutVarint64(&out, v.size());
    out.append(v);
  }
  return out;
}

bool DecodeAssetValue(std::string_view data, Asset* asset) {
  if (data.size() < 8) return false;
  asset->created_ns = static_cast<int64_t>(DecodeFixed64BE(data.data()));
  ByteReader r(data.substr(8));
  uint64_t count;
  if (!r.ReadVarint64(&count) || count > data.size()) return false;
  asset->attributes.resize(count);
  for (auto& [k, v] : asset->attributes) {
    uint64_t len;
    std::string_view bytes;
    if (!r.ReadVarint64(&len) || !r.ReadBytes(len, &bytes)) return false;
    k.assign(bytes);
    if (!r.ReadVarint64(&len) || !r.ReadBytes(len, &bytes)) return false;
    v.assign(bytes);
  }
  return r.empty();
}

}  // namespace foresight::storage
