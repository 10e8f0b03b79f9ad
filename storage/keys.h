// Key layouts of every column family (documented in storage/FORMAT.md). Private to storage/.
// Every key starts with the 4-byte big-endian tenant id, so a tenant is one contiguous range
// and a prefix of fixed width can never match another tenant's keys (t1 vs t10).
#pragma once

#include "storage/coding.h"
#include "storage/storage.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace foresight::storage {

inline constexpr TenantId kSystemTenant = 0;

// catalog: [0][ 'T' ][name] -> tenant id (fixed32 BE)
// catalog: [0][ 'V' ] -> the directory's format version (fixed32 BE); absent in format 1
// catalog: [tenant][ 'R' ] -> retention
// catalog: [tenant][ 'S' ][canonical series key] -> series id (fixed32 BE) + value type (u8)
// catalog: [tenant][ 'A' ][asset id] -> created ns (fixed64 BE) + attribute count (varint) +
//          (key, value) length-prefixed pairs
inline constexpr char kTenantTag = 'T';
inline constexpr char kAssetTag = 'A';
inline constexpr char kRetentionTag = 'R';
inline constexpr char kSeriesTag = 'S';
inline constexpr char kFormatTag = 'V';

inline std::string TenantPrefix(TenantId tenant) {
  std::string key;
  PutFixed32BE(&key, tenant);
  return key;
}

inline std::string CatalogKey(TenantId tenant, char tag, std::string_view suffix = {}) {
  std::string key = TenantPrefix(tenant);
  key.push_back(tag);
  key.append(suffix);
  return key;
}

// points: [tenant][series][first ts] -> block
inline std::string PointKey(TenantId tenant, SeriesId series, int64_t first_ts) {
  std::string key;
  key.reserve(16);
  PutFixed32BE(&key, tenant);
  PutFixed32BE(&key, series);
  PutTimestampKey(&key, first_ts);
  return key;
}
inline constexpr size_t kPointKeySize = 16;
inline constexpr size_t kSeriesPrefixSize = 8;

// rollups: [tenant][tier][series][bucket start] -> aggregate
inline std::string RollupKey(TenantId tenant, Tier tier, SeriesId series, int64_t bucket_ts) {
  std::string key;
  key.reserve(17);
  PutFixed32BE(&key, tenant);
  key.push_back(static_cast<char>(tier));
  PutFixed32BE(&key, series);
  PutTimestampKey(&key, bucket_ts);
  return key;
}
inline constexpr size_t kRollupKeySize = 17;

// log: [tenant][sequence (fixed64 BE)] -> WAL record of one appended batch
inline std::string LogKey(TenantId tenant, uint64_t seq) {
  std::string key;
  key.reserve(12);
  PutFixed32BE(&key, tenant);
  PutFixed64BE(&key, seq);
  return key;
}

// events: [tenant][kind length u8][kind][id] -> the record's bytes
inline std::string RecordKey(TenantId tenant, std::string_view kind, std::string_view id = {}) {
  std::string key = TenantPrefix(tenant);
  key.push_back(static_cast<char>(kind.size()));
  key.append(kind);
  key.append(id);
  return key;
}

// The smallest key greater than every key starting with `prefix`.
inline std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char c = static_cast<unsigned char>(prefix.back());
    if (c != 0xff) {
      prefix.back() = static_cast<char>(c + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;  // empty: no upper bound
}

// Series keys: measurement, tag count, tags sorted by key, field; each string length-prefixed,
// so no byte in a name can make two different series collide.
std::string EncodeSeriesKey(const SeriesKey& key);
std::string EncodeAssetValue(const Asset& asset);
bool DecodeAssetValue(std::string_view data, Asset* asset);
bool DecodeSeriesKey(std::string_view data, SeriesKey* key);

}  // namespace foresight::storage
