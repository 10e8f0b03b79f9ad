// The project's JSON parser (simdjson into Boost.JSON values) and writer.
#include "storage/json.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace foresight::storage {
namespace {

namespace json = boost::json;

json::value FromSimdjson(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array array;
      json::array a;
      if (e.get_array().get(array) == simdjson::SUCCESS) {
        for (simdjson::dom::element x : array) a.push_back(FromSimdjson(x));
      }
      return a;
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object object;
      json::object o;
      if (e.get_object().get(object) == simdjson::SUCCESS) {
        for (auto field : object) o[field.key] = FromSimdjson(field.value);
      }
      return o;
    }
    case simdjson::dom::element_type::INT64:
      return e.get_int64().value_unsafe();
    case simdjson::dom::element_type::UINT64:
      return e.get_uint64().value_unsafe();
    case simdjson::dom::element_type::DOUBLE:
      return e.get_double().value_unsafe();
    case simdjson::dom::element_type::STRING:
      return json::string(e.get_string().value_unsafe());
    case simdjson::dom::element_type::BOOL:
      return e.get_bool().value_unsafe();
    case simdjson::dom::element_type::NULL_VALUE:
      return nullptr;
  }
  return nullptr;
}

// The shortest text that reads back as `v`, with a fraction kept so a reader sees a float.
template <typename F>
void AppendFloat(F v, std::string* out) {
  if (!std::isfinite(v)) {
    *out += "null";
    return;
  }
  char buf[32];
  char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out->append(buf, end);
  if (std::find_if(buf, end, [](char c) { return c == '.' || c == 'e'; }) == end) *out += ".0";
}

}  // namespace

Result<json::value> ParseJson(std::string_view text) {
  text = SkipByteOrderMark(text);
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto e = parser.parse(text.data(), text.size()).get(root)) {
    return Status::InvalidArgument(std::string("not valid JSON: ") + simdjson::error_message(e));
  }
  return FromSimdjson(root);
}

Result<json::object> ParseJsonObject(std::string_view text) {
  auto v = ParseJson(text);
  if (!v.ok()) return v.status();
  if (!v->is_object()) return Status::InvalidArgument("not a JSON object");
  return std::move(v->as_object());
}

std::string JsonText(const json::value& v) { return JsonWriter().Value(v).Take(); }

std::string JsonText(const json::object& o) {
  JsonWriter w;
  w.BeginObject();
  for (const json::key_value_pair& kv : o) w.Key(kv.key()).Value(kv.value());
  return w.EndObject().Take();
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  Separate();
  Quote(key);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view v) {
  Separate();
  Quote(v);
  return *this;
}

JsonWriter& JsonWriter::Number(double v) {
  Separate();
  AppendFloat(v, &out_);
  return *this;
}

JsonWriter& JsonWriter::Number(float v) {
  Separate();
  AppendFloat(v, &out_);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t v) {
  Separate();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  return *this;
}

JsonWriter& JsonWriter::Uint(uint64_t v) {
  Separate();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool v) {
  Separate();
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::Value(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return Null();
    case json::kind::bool_:
      return Bool(v.get_bool());
    case json::kind::int64:
      return Int(v.get_int64());
    case json::kind::uint64:
      return Uint(v.get_uint64());
    case json::kind::double_:
      return Number(v.get_double());
    case json::kind::string:
      return String(v.get_string());
    case json::kind::array:
      BeginArray();
      for (const json::value& x : v.get_array()) Value(x);
      return EndArray();
    case json::kind::object:
      BeginObject();
      for (const json::key_value_pair& kv : v.get_object()) Key(kv.key()).Value(kv.value());
      return EndObject();
  }
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  Separate();
  out_ += json;
  return *this;
}

JsonWriter& JsonWriter::Open(char c) {
  Separate();
  out_ += c;
  first_ = true;
  return *this;
}

JsonWriter& JsonWriter::Close(char c) {
  out_ += c;
  first_ = false;
  return *this;
}

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
  } else if (!first_) {
    out_ += ',';
  }
  first_ = false;
}

// Whatever `s` holds, the output is valid UTF-8 JSON: each byte that does not start a valid UTF-8
// sequence becomes U+FFFD. Storage refuses such text on the way in (CheckText); this covers what
// an older version stored or a record read back from a damaged file.
void JsonWriter::Quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_ += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
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
        if (c < 0x20 || c == 0x7f) {
          out_ += "\\u00";
          out_ += kHex[c >> 4];
          out_ += kHex[c & 15];
        } else if (c < 0x80) {
          out_ += static_cast<char>(c);
        } else if (size_t n = Utf8SequenceLength(s.substr(i)); n != 0) {
          out_.append(s.data() + i, n);
          i += n - 1;
        } else {
          out_ += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        }
    }
  }
  out_ += '"';
}

}  // namespace foresight::storage
