// Private to ml/: the JSON of registry and engine records, written with the project's writer
// (storage::JsonWriter, streaming a few fixed shapes) and read with simdjson's DOM, the parser
// behind storage::ParseJson, field by field into typed structs.
#pragma once

#include "storage/json.h"

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::ml {

using storage::JsonWriter;

// Readers that leave the default when a field is absent or of another type (null included).
inline std::string GetString(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
}
inline int64_t GetInt(simdjson::dom::element e, const char* key, int64_t fallback = 0) {
  int64_t v;
  return e[key].get(v) == simdjson::SUCCESS ? v : fallback;
}
inline double GetDouble(simdjson::dom::element e, const char* key, double fallback = std::nan("")) {
  double v;
  return e[key].get(v) == simdjson::SUCCESS ? v : fallback;
}
inline std::vector<std::string> GetStrings(simdjson::dom::element e, const char* key) {
  std::vector<std::string> out;
  simdjson::dom::array array;
  if (e[key].get(array) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element item : array) {
    std::string_view v;
    if (item.get(v) == simdjson::SUCCESS) out.emplace_back(v);
  }
  return out;
}
template <typename T>
std::vector<T> GetNumbers(simdjson::dom::element e, const char* key) {
  std::vector<T> out;
  simdjson::dom::array array;
  if (e[key].get(array) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element item : array) {
    double v;
    out.push_back(item.get(v) == simdjson::SUCCESS ? static_cast<T>(v) : static_cast<T>(NAN));
  }
  return out;
}

}  // namespace foresight::ml
