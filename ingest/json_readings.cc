// JSON readings through simdjson On-Demand, onto the same batch and cache path as line protocol.
//
// Errors come in two kinds. A document simdjson cannot walk (bad syntax, invalid UTF-8, nesting
// deeper than simdjson's limit, trailing bytes) fails whole: nothing is stored, because after a
// structural error there is no reliable "next reading". A reading that is well-formed JSON but
// wrong for us (missing asset_id, a metric that is an object, a bad timestamp) is rejected by
// its index and the others are stored.
#include "ingest/ingestor_impl.h"

#include <charconv>
#include <chrono>

namespace foresight::ingest {
namespace {

namespace od = simdjson::ondemand;

std::string_view TypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "unknown";
}

// Per-reading outcome: OK, a reason to reject this reading, or a document error.
struct ReadingError {
  std::string reason;                            // reject this reading
  simdjson::error_code doc = simdjson::SUCCESS;  // stop: the document cannot be walked
};

class ReadingReader {
 public:
  ReadingReader(const IngestOptions& options, Scratch& scratch, Precision precision, int64_t now_ns)
      : options_(options), s_(scratch), precision_(precision), now_ns_(now_ns) {}

  // Reads one reading into a point and hands it to the batch. Each member is read by its own
  // step, which notes the first reason to reject the reading and returns only document errors.
  ReadingError Read(od::object obj, uint32_t index) {
    ReadingError err;
    s_.tags.clear();
    s_.fields.clear();
    std::string_view asset_id, measurement = "readings";
    bool have_metrics = false;
    int64_t ts_ns = now_ns_;
    for (auto member : obj) {
      std::string_view key;
      od::value v;
      od::json_type type;
      if (auto e = member.unescaped_key().get(key)) return Doc(e);
      if (auto e = member.value().get(v)) return Doc(e);
      if (auto e = v.type().get(type)) return Doc(e);
      simdjson::error_code e = simdjson::SUCCESS;
      if (key == "asset_id") {
        e = ReadName(v, type, "asset_id", &asset_id, err);
      } else if (key == "measurement") {
        e = ReadName(v, type, "measurement", &measurement, err);
      } else if (key == "timestamp") {
        e = ReadTimestamp(v, type, &ts_ns, err);
      } else if (key == "tags") {
        e = ReadTags(v, type, err);
      } else if (key == "metrics") {
        e = ReadMetrics(v, type, err);
        have_metrics = have_metrics || type == od::json_type::object;
      } else {
        Note(err, "unknown member '" + std::string(key) +
                      "' (expected asset_id, timestamp, measurement, tags, metrics)");
      }
      if (e) return Doc(e);
    }
    if (!err.reason.empty()) return err;
    if (asset_id.empty()) return Reason(err, "asset_id is required");
    if (!have_metrics || s_.fields.empty()) {
      return Reason(err, "metrics must name at least one metric");
    }
    return Emit(asset_id, measurement, ts_ns, index);
  }

 private:
  // A non-empty string member; `out` is left as it was otherwise.
  simdjson::error_code ReadName(od::value& v, od::json_type type, std::string_view name,
                                std::string_view* out, ReadingError& err) {
    if (type != od::json_type::string) {
      NoteType(err, std::string(name) + " must be a string, not ", type);
      return simdjson::SUCCESS;
    }
    std::string_view text;
    if (auto e = v.get_string().get(text)) return e;
    if (text.empty()) {
      Note(err, std::string(name) + " must not be empty");
    } else {
      *out = text;
    }
    return simdjson::SUCCESS;
  }

  // An RFC 3339 string, or an integer in the request's precision.
  simdjson::error_code ReadTimestamp(od::value& v, od::json_type type, int64_t* ts_ns,
                                     ReadingError& err) {
    if (type == od::json_type::string) {
      std::string_view text;
      if (auto e = v.get_string().get(text)) return e;
      Result<int64_t> ts = storage::ParseRfc3339(text);
      if (!ts.ok()) {
        Note(err, std::string(ts.status().message()));
      } else {
        *ts_ns = *ts;
      }
    } else if (type == od::json_type::number) {
      int64_t units;
      if (v.get_int64().get(units) != simdjson::SUCCESS) {
        Note(err, "timestamp must be an integer or an RFC 3339 string");
      } else if (!ScaleTimestamp(units, precision_, ts_ns)) {
        Note(err, "timestamp out of range");
      }
    } else {
      NoteType(err, "timestamp must be an integer or an RFC 3339 string, not ", type);
    }
    return simdjson::SUCCESS;
  }

  // {"key": "value", ...} into s_.tags.
  simdjson::error_code ReadTags(od::value& v, od::json_type type, ReadingError& err) {
    if (type != od::json_type::object) {
      NoteType(err, "tags must be an object, not ", type);
      return simdjson::SUCCESS;
    }
    od::object tags;
    if (auto e = v.get_object().get(tags)) return e;
    for (auto tag : tags) {
      std::string_view tk, tv;
      if (auto e = tag.unescaped_key().get(tk)) return e;
      od::value t;
      if (auto e = tag.value().get(t)) return e;
      od::json_type tt;
      if (auto e = t.type().get(tt)) return e;
      if (tt != od::json_type::string) {
        NoteType(err, "tags." + std::string(tk) + " must be a string, not ", tt);
        continue;
      }
      if (auto e = t.get_string().get(tv)) return e;
      if (tk.empty() || tv.empty()) {
        Note(err, "tag keys and values must not be empty");
      } else if (s_.tags.size() == options_.limits.max_tags) {
        Note(err, "too many tags");
      } else {
        s_.tags.push_back({tk, tv});
      }
    }
    return simdjson::SUCCESS;
  }

  // {"name": number | boolean | string, ...} into s_.fields.
  simdjson::error_code ReadMetrics(od::value& v, od::json_type type, ReadingError& err) {
    if (type != od::json_type::object) {
      NoteType(err, "metrics must be an object, not ", type);
      return simdjson::SUCCESS;
    }
    od::object metrics;
    if (auto e = v.get_object().get(metrics)) return e;
    for (auto metric : metrics) {
      Field f;
      if (auto e = metric.unescaped_key().get(f.key)) return e;
      od::value m;
      if (auto e = metric.value().get(m)) return e;
      od::json_type mt;
      if (auto e = m.type().get(mt)) return e;
      std::string field = "metrics." + std::string(f.key);
      if (f.key.empty()) {
        Note(err, "metric names must not be empty");
        continue;
      }
      if (mt == od::json_type::number) {
        double d;
        if (m.get_double().get(d) != simdjson::SUCCESS) {
          Note(err, field + " is not a representable number");
          continue;
        }
        f.value = storage::Value::Float(d);
      } else if (mt == od::json_type::boolean) {
        bool b;
        if (auto e = m.get_bool().get(b)) return e;
        f.value = storage::Value::Bool(b);
      } else if (mt == od::json_type::string) {
        std::string_view str;
        if (auto e = m.get_string().get(str)) return e;
        f.value = storage::Value::String(str);
      } else {
        NoteType(err, field + " must be a number, boolean or string, not ", mt);
        continue;
      }
      if (s_.fields.size() == options_.limits.max_fields) {
        Note(err, "too many metrics");
        continue;
      }
      for (const Field& other : s_.fields) {
        if (other.key == f.key) Note(err, "duplicate metric '" + std::string(f.key) + "'");
      }
      s_.fields.push_back(f);
    }
    return simdjson::SUCCESS;
  }

  // The checked reading as a point of the batch: the asset tag first, then its tags.
  ReadingError Emit(std::string_view asset_id, std::string_view measurement, int64_t ts_ns,
                    uint32_t index) {
    ReadingError err;
    // simdjson has checked the document's UTF-8 and its \u escapes (no lone surrogates); what an
    // escape can still smuggle in is a control character.
    auto text = [&](std::string_view what, std::string_view s, storage::TextKind kind) {
      auto bad = storage::CheckText(s, kind);
      if (bad) err.reason = std::string(what) + ": " + bad->reason;
      return !bad;
    };
    if (!text("asset_id", asset_id, storage::TextKind::kLine) ||
        !text("measurement", measurement, storage::TextKind::kLine)) {
      return err;
    }
    for (const Tag& t : s_.tags) {
      if (!text("tag " + std::string(t.key), t.key, storage::TextKind::kLine) ||
          !text("tags." + std::string(t.key), t.value, storage::TextKind::kLine)) {
        return err;
      }
    }
    for (const Field& f : s_.fields) {
      if (!text("metric " + std::string(f.key), f.key, storage::TextKind::kLine) ||
          (f.value.type == storage::ValueType::kString &&
           !text("metrics." + std::string(f.key), f.value.str, storage::TextKind::kMultiline))) {
        return err;
      }
    }
    for (const Tag& t : s_.tags) {
      if (t.key == options_.asset_tag) {
        return Reason(err, "tags must not repeat " + options_.asset_tag);
      }
    }
    s_.tags.insert(s_.tags.begin(), Tag{options_.asset_tag, asset_id});
    for (size_t i = 1; i < s_.tags.size(); ++i) {
      for (size_t j = 1; j < i; ++j) {
        if (s_.tags[i].key == s_.tags[j].key) {
          return Reason(err, "duplicate tag '" + std::string(s_.tags[i].key) + "'");
        }
      }
    }
    s_.series_text.clear();
    PutLengthPrefixed(&s_.series_text, measurement);
    for (const Tag& t : s_.tags) {
      PutLengthPrefixed(&s_.series_text, t.key);
      PutLengthPrefixed(&s_.series_text, t.value);
    }
    if (s_.series_text.size() > options_.limits.max_line_bytes) {
      return Reason(err, "the reading's measurement and tags are longer than " +
                             std::to_string(options_.limits.max_line_bytes) + " bytes");
    }
    Point point;
    point.ts_ns = ts_ns;
    point.line = index;
    point.series_text = s_.series_text;
    point.measurement = measurement;
    point.tags = s_.tags;
    point.fields = s_.fields;
    point.has_timestamp = true;
    s_.batch.OnPoint(point);
    return err;
  }

  static ReadingError Doc(simdjson::error_code e) {
    ReadingError err;
    err.doc = e;
    return err;
  }
  static ReadingError Reason(ReadingError& err, std::string reason) {
    err.reason = std::move(reason);
    return err;
  }
  // Records the first reason to reject the reading; the caller goes on walking it, so the
  // document stays consumable.
  static void Note(ReadingError& err, std::string reason) {
    if (err.reason.empty()) err.reason = std::move(reason);
  }
  static void NoteType(ReadingError& err, std::string prefix, od::json_type type) {
    Note(err, prefix + std::string(TypeName(type)));
  }

  const IngestOptions& options_;
  Scratch& s_;
  Precision precision_;
  int64_t now_ns_;
};

}  // namespace

WriteReport Ingestor::WriteJsonReadings(storage::TenantId tenant, std::string_view body,
                                        Precision precision, int64_t now_ns) {
  std::unique_ptr<Scratch> scratch = impl_->TakeScratch();
  Batch& batch = scratch->batch;
  impl_->Begin(batch, tenant, CacheKind::kJson, {}, now_ns);
  simdjson::padded_string padded(body.data(), body.size());
  ReadingReader reader(options_, *scratch, precision, now_ns);
  simdjson::error_code doc_error = simdjson::SUCCESS;
  uint32_t index = 0;
  {
    ReaderLock l(&batch.cache->mu);
    auto handle = [&](od::object obj) {
      ReadingError e = reader.Read(obj, ++index);
      if (e.doc != simdjson::SUCCESS) {
        doc_error = e.doc;
        return false;
      }
      if (!e.reason.empty()) batch.rejected.push_back({index, 0, std::move(e.reason)});
      return true;
    };
    od::document doc;
    od::json_type type{};
    doc_error = scratch->json.iterate(padded).get(doc);
    if (!doc_error) doc_error = doc.type().get(type);
    if (!doc_error && type == od::json_type::array) {
      od::array array;
      doc_error = doc.get_array().get(array);
      if (!doc_error) {
        for (auto element : array) {
          od::value v;
          od::json_type t;
          if ((doc_error = element.get(v)) || (doc_error = v.type().get(t))) break;
          if (t != od::json_type::object) {
            batch.rejected.push_back(
                {++index, 0, "a reading must be an object, not " + std::string(TypeName(t))});
            continue;
          }
          od::object obj;
          if ((doc_error = v.get_object().get(obj)) || !handle(obj)) break;
        }
      }
    } else if (!doc_error && type == od::json_type::object) {
      od::object obj;
      doc_error = doc.get_object().get(obj);
      if (!doc_error) handle(obj);
    } else if (!doc_error) {
      batch.rejected.push_back(
          {1, 0, "a reading must be an object, not " + std::string(TypeName(type))});
    }
    // simdjson 3.0 has no document::at_end(); a location inside the buffer means bytes remain.
    if (!doc_error && doc.current_location().error() == simdjson::SUCCESS) {
      doc_error = simdjson::TRAILING_CONTENT;
    }
  }
  WriteReport report;
  if (doc_error) {
    report.status = Status::InvalidArgument(std::string("malformed JSON: ") +
                                            simdjson::error_message(doc_error));
  } else {
    report = impl_->Commit(tenant, batch, now_ns);
  }
  impl_->ReturnScratch(std::move(scratch));
  return report;
}

}  // namespace foresight::ingest
