// Rule records: the stored form of the rules the live engine runs (kind "rule", one JSON
// document per rule; the fields are in query/README.md). The API writes them; this file is the
// one place that reads them back into Rules.
#include "query/query.h"
#include "storage/json.h"
#include "storage/log.h"

#include <algorithm>

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

}  // namespace

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
