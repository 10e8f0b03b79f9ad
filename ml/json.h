// Private to ml/: the JSON of registry and engine records, written by hand (a few fixed shapes)
// and read with simdjson's DOM.
#pragma once

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::ml {

// Appends a JSON document; commas are placed by the writer. Non-finite numbers become null.
class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view key) {
    Separate();
    Quote(key);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view v) {
    Separate();
    Quote(v);
    return *this;
  }
  JsonWriter& Number(double v) {
    Separate();
    if (!std::isfinite(v)) {
      out_ += "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.9g", v);
      out_ += buf;
    }
    return *this;
  }
  JsonWriter& Int(int64_t v) {
    Separate();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& Bool(bool v) {
    Separate();
    out_ += v ? "true" : "false";
    return *this;
  }
  // A JSON text inserted as it is (REQUIRES: valid JSON).
  JsonWriter& Raw(std::string_view json) {
    Separate();
    out_ += json;
    return *this;
  }
  template <typename T>
  JsonWriter& Field(std::string_view key, const T& v) {
    Key(key);
    if constexpr (std::is_same_v<T, bool>) {
      return Bool(v);
    } else if constexpr (std::is_integral_v<T>) {
      return Int(static_cast<int64_t>(v));
    } else if constexpr (std::is_floating_point_v<T>) {
      return Number(v);
    } else {
      return String(v);
    }
  }
  template <typename T>
  JsonWriter& Array(std::string_view key, const std::vector<T>& values) {
    Key(key).BeginArray();
    for (const T& v : values) {
      if constexpr (std::is_floating_point_v<T>) {
        Number(v);
      } else {
        String(v);
      }
    }
    return EndArray();
  }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Open(char c) {
    Separate();
    out_ += c;
    first_ = true;
    return *this;
  }
  JsonWriter& Close(char c) {
    out_ += c;
    first_ = false;
    return *this;
  }
  void Separate() {
    if (after_key_) {
      after_key_ = false;
    } else if (!first_) {
      out_ += ',';
    }
    first_ = false;
  }
  void Quote(std::string_view s) {
    out_ += '"';
    for (unsigned char c : s) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out_ += buf;
          } else {
            out_ += static_cast<char>(c);
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

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
