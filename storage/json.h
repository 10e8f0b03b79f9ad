// storage/json.h — the project's JSON: one parser and one writer, for every module.
//
// Purpose: every JSON document FORESIGHT reads or writes outside the ingest hot path — API
// bodies and answers, stored records (rules, alerts, tokens, maintenance, settings), WebSocket
// messages, webhook payloads — goes through these two functions, so a number or a string reads
// and prints the same way everywhere. It lives in storage because every module depends on
// storage and the records storage keeps are these documents.
//
// Parsing is simdjson's DOM (validating, UTF-8 checked), converted into a Boost.JSON value that
// callers can read and edit. Readers of fixed, large shapes (line protocol, JSON readings,
// XGBoost models) use simdjson directly for speed; that is the same parser.
//
// Writing is JsonWriter's, for Boost.JSON values (JsonText) and for callers that stream a fixed
// shape without building a value (ml's records). It prints a double or a float in its shortest
// form that reads back exactly, with a fraction kept (99.6, 129.0, 0.25, 1e-07 — never 9.96E1,
// and a float 0.1f as 0.1), integers as integers, non-finite numbers as null, and strings with
// '"', '\\' and control characters escaped (other bytes as they are).
//
// Threading: both functions are thread-safe (the parser is per thread).
// Errors: ParseJson answers InvalidArgument with simdjson's reason; nothing throws.
#pragma once

#include "storage/storage.h"

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace foresight::storage {

// `text` as a JSON value; InvalidArgument when it is not one JSON document.
Result<boost::json::value> ParseJson(std::string_view text);
// ParseJson that also requires an object; InvalidArgument "not a JSON object" otherwise.
Result<boost::json::object> ParseJsonObject(std::string_view text);

// `v` as compact JSON text.
std::string JsonText(const boost::json::value& v);
std::string JsonText(const boost::json::object& o);

// Appends one JSON document; commas are placed by the writer.
class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view v);
  JsonWriter& Number(double v);
  JsonWriter& Number(float v);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  JsonWriter& Value(const boost::json::value& v);
  // A JSON text inserted as it is (REQUIRES: one valid JSON document this program wrote).
  JsonWriter& Raw(std::string_view json);

  template <typename T>
  JsonWriter& Field(std::string_view key, const T& v) {
    Key(key);
    if constexpr (std::is_same_v<T, bool>) {
      return Bool(v);
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      return Int(v);
    } else if constexpr (std::is_integral_v<T>) {
      return Uint(v);
    } else if constexpr (std::is_floating_point_v<T>) {
      return Number(v);
    } else {
      return String(v);
    }
  }
  // An array of numbers or of strings.
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
  JsonWriter& Open(char c);
  JsonWriter& Close(char c);
  void Separate();
  void Quote(std::string_view s);

  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace foresight::storage
