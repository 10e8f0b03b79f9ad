// Rule records: the stored form of the rules the live engine runs (kind "rule", one JSON
// document per rule; the fields are in query/README.md). The API writes them; this file is the
// one place that reads them back into Rules.
#include "query/query.h"
#include "storage/json.h"
#include "storage/log.h"

#include <algorithm>
#include <cmath>

namespace foresight::query {
namespace {

namespace json = boost::json;

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

template <size_t N>
size_t IndexIn(const std::array<std::string_view, N>& names, std::string_view v) {
  return static_cast<size_t>(std::find(names.begin(), names.end(), v) - names.begin());
}

enum class Type { kName, kText, kNumber, kCount, kBool, kEnum, kScope };

struct Field {
  std::string_view name;
  Type type;
  bool required = false;
  std::span<const std::string_view> options = {};
};

constexpr std::array<std::string_view, 4> kSourceNames = {"raw", "5m", "1h", "24h"};
constexpr std::array<std::string_view, 3> kScopeKeys = {"asset_type", "site", "asset_id"};

constexpr Field kFields[] = {
    {"name", Type::kName, true},
    {"metric", Type::kName, true},
    {"operator", Type::kEnum, true, kOpNames},
    {"threshold", Type::kNumber, true},
    {"clear_threshold", Type::kNumber},
    {"source", Type::kEnum, false, kSourceNames},
    {"aggregate", Type::kEnum, false, kAggregateNames},
    {"scope", Type::kScope},
    {"for_seconds", Type::kCount},
    {"cooldown_seconds", Type::kCount},
    {"severity", Type::kEnum, false, kSeverityNames},
    {"enabled", Type::kBool},
    {"description", Type::kText},
};

Status Invalid(std::string_view field, std::string why) {
  return Status::InvalidArgument(std::string(field) + ": " + why);
}

std::string OneOf(std::span<const std::string_view> options) {
  std::string out;
  for (std::string_view o : options) {
    if (!out.empty()) out += ", ";
    out += o;
  }
  return out;
}

Status CheckField(const Field& f, const json::value& v) {
  const std::string name(f.name);
  switch (f.type) {
    case Type::kName:
    case Type::kText: {
      const size_t max = f.type == Type::kName ? 256 : 4096;
      if (!v.is_string()) return Invalid(name, name + " must be a string");
      if (v.as_string().size() > max) {
        return Invalid(name, name + " is longer than " + std::to_string(max) + " characters");
      }
      if (f.required && v.as_string().empty()) return Invalid(name, name + " must not be empty");
      return Status::OK();
    }
    case Type::kNumber:
      if (!v.is_number()) return Invalid(name, name + " must be a number");
      if (!std::isfinite(v.to_number<double>())) return Invalid(name, name + " must be finite");
      return Status::OK();
    case Type::kCount:
      if (!v.is_int64() && !v.is_uint64()) return Invalid(name, name + " must be an integer");
      if (v.is_int64() && v.as_int64() < 0) return Invalid(name, name + " must not be negative");
      return Status::OK();
    case Type::kBool:
      if (!v.is_bool()) return Invalid(name, name + " must be true or false");
      return Status::OK();
    case Type::kEnum:
      if (!v.is_string() ||
          std::find(f.options.begin(), f.options.end(), v.as_string()) == f.options.end()) {
        return Invalid(name, name + " must be one of " + OneOf(f.options));
      }
      return Status::OK();
    case Type::kScope:
      if (!v.is_object()) return Invalid(name, "scope must be an object");
      for (const auto& [k, x] : v.as_object()) {
        const std::string field = "scope." + std::string(k);
        if (std::find(kScopeKeys.begin(), kScopeKeys.end(), k) == kScopeKeys.end()) {
          return Invalid(field, "scope may name " + OneOf(kScopeKeys));
        }
        if (!x.is_string() || x.as_string().empty()) {
          return Invalid(field, "scope values must be non-empty strings");
        }
      }
      return Status::OK();
  }
  return Status::OK();
}

}  // namespace

Status ApplyRuleChange(const json::object& change, bool creating, json::object* record) {
  json::object rule = creating ? json::object{{"source", "raw"},         {"aggregate", "mean"},
                                              {"scope", json::object()}, {"for_seconds", 0},
                                              {"cooldown_seconds", 0},   {"severity", "warning"},
                                              {"enabled", true}}
                               : *record;
  for (const json::key_value_pair& kv : change) {
    const std::string_view key = kv.key();
    const Field* f = std::find_if(std::begin(kFields), std::end(kFields),
                                  [&](const Field& x) { return x.name == key; });
    if (f == std::end(kFields)) return Invalid(key, "unknown field '" + std::string(key) + "'");
    if (kv.value().is_null()) {
      if (f->required) return Invalid(key, std::string(key) + " is required");
      rule.erase(key);
      continue;
    }
    if (Status s = CheckField(*f, kv.value()); !s.ok()) return s;
    rule[key] = kv.value();
  }
  for (const Field& f : kFields) {
    if (f.required && !rule.contains(f.name)) {
      return Invalid(f.name, std::string(f.name) + " is required");
    }
  }
  if (const json::value* clear = rule.if_contains("clear_threshold")) {
    const Op op = static_cast<Op>(IndexIn(kOpNames, rule.at("operator").as_string()));
    Status s = CheckClearThreshold(op, rule.at("threshold").to_number<double>(),
                                   clear->to_number<double>());
    if (!s.ok()) return Invalid("clear_threshold", std::string(s.message()));
  }
  *record = std::move(rule);
  return Status::OK();
}

Result<std::optional<Rule>> DecodeRule(std::string_view record) {
  auto doc = storage::ParseJsonObject(record);
  if (!doc.ok()) return Status::Corruption("a rule record is not a JSON object");
  const json::object& d = *doc;
  if (d.contains("deleted_at")) return std::optional<Rule>();
  const json::value* threshold = d.if_contains("threshold");
  if (!threshold || !threshold->is_number()) {
    return Status::Corruption("rule '" + Str(d, "id") + "' has no numeric threshold");
  }
  Rule r;
  r.id = Str(d, "id");
  r.name = Str(d, "name");
  r.metric = Str(d, "metric");
  r.op = static_cast<Op>(IndexIn(kOpNames, Str(d, "operator")));
  r.threshold = threshold->to_number<double>();
  if (const json::value* c = d.if_contains("clear_threshold"); c && c->is_number()) {
    r.clear_threshold = c->to_number<double>();
  }
  if (std::string source = Str(d, "source"); !source.empty() && source != "raw") {
    for (size_t i = 0; i < kSpans; ++i) {
      if (kSpanShapes[i].name == source) r.window = static_cast<Span>(i);
    }
  }
  if (std::string aggregate = Str(d, "aggregate"); !aggregate.empty()) {
    r.aggregate = static_cast<Aggregate>(IndexIn(kAggregateNames, aggregate));
  }
  if (const json::value* scope = d.if_contains("scope"); scope && scope->is_object()) {
    r.asset_type = Str(scope->as_object(), "asset_type");
    r.site = Str(scope->as_object(), "site");
    r.asset_id = Str(scope->as_object(), "asset_id");
  }
  if (const json::value* v = d.if_contains("for_seconds"); v && v->is_number()) {
    r.for_ns = v->to_number<int64_t>() * storage::kSecondNs;
  }
  if (const json::value* v = d.if_contains("cooldown_seconds"); v && v->is_number()) {
    r.cooldown_ns = v->to_number<int64_t>() * storage::kSecondNs;
  }
  if (std::string severity = Str(d, "severity"); !severity.empty()) {
    r.severity = static_cast<Severity>(IndexIn(kSeverityNames, severity));
  }
  if (const json::value* v = d.if_contains("enabled"); v && v->is_bool()) r.enabled = v->as_bool();
  return std::optional<Rule>(std::move(r));
}

Status CheckClearThreshold(Op op, double threshold, double clear_threshold) {
  const std::string_view name = kOpNames[static_cast<size_t>(op)];
  if ((op == Op::kGt || op == Op::kGte) && clear_threshold > threshold) {
    return Status::InvalidArgument("clear_threshold must not be above threshold for " +
                                   std::string(name));
  }
  if ((op == Op::kLt || op == Op::kLte) && clear_threshold < threshold) {
    return Status::InvalidArgument("clear_threshold must not be below threshold for " +
                                   std::string(name));
  }
  if (op == Op::kEq || op == Op::kNe) {
    return Status::InvalidArgument("clear_threshold applies to gt, gte, lt and lte only");
  }
  return Status::OK();
}

}  // namespace foresight::query
