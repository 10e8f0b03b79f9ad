// Maintenance records (with CSV import), rules and alerts: JSON documents in storage records,
// validated field by field against a small spec so every 400 names its field.
#include "http/api.h"
#include "http/csv.h"

#include <algorithm>
#include <cmath>

namespace foresight::http {
namespace {

enum class Type { kString, kText, kNumber, kTime, kEnum };

struct FieldSpec {
  std::string_view name;
  Type type;
  bool required = false;
  std::span<const std::string_view> options = {};
};

std::optional<ApiError> CheckValue(const FieldSpec& f, const json::value& v, json::value* out) {
  std::string name(f.name);
  switch (f.type) {
    case Type::kString:
    case Type::kText: {
      size_t max = f.type == Type::kString ? 256 : 4096;
      if (!v.is_string()) return BadField(name, name + " must be a string");
      if (v.as_string().size() > max) {
        return BadField(name, name + " is longer than " + std::to_string(max) + " characters");
      }
      if (f.required && v.as_string().empty()) return BadField(name, name + " must not be empty");
      *out = v;
      return std::nullopt;
    }
    case Type::kNumber: {
      if (!v.is_number()) return BadField(name, name + " must be a number");
      double d = v.to_number<double>();
      if (!std::isfinite(d)) return BadField(name, name + " must be finite");
      *out = v;
      return std::nullopt;
    }
    case Type::kTime: {
      std::optional<int64_t> t = ParseTimeValue(v);
      if (!t) return BadField(name, name + " must be an RFC 3339 time or epoch milliseconds");
      *out = json::string(storage::FormatRfc3339(*t));
      return std::nullopt;
    }
    case Type::kEnum:
      if (!v.is_string() ||
          std::find(f.options.begin(), f.options.end(), v.as_string()) == f.options.end()) {
        return BadField(name, name + " must be one of " + Join(f.options));
      }
      *out = v;
      return std::nullopt;
  }
  return std::nullopt;
}

// Copies the fields of `body` into `doc`, checked against `spec`; null clears an optional field.
std::optional<ApiError> ApplyFields(const json::object& body, const std::vector<FieldSpec>& spec,
                                    bool creating, json::object* doc) {
  for (const json::key_value_pair& field : body) {
    const std::string_view key = field.key();
    const json::value& value = field.value();
    auto f =
        std::find_if(spec.begin(), spec.end(), [&](const FieldSpec& s) { return s.name == key; });
    if (f == spec.end()) return BadField(key, "unknown field '" + std::string(key) + "'");
    if (value.is_null()) {
      if (f->required) return BadField(key, std::string(key) + " is required");
      doc->erase(key);
      continue;
    }
    json::value out;
    if (auto e = CheckValue(*f, value, &out)) return e;
    (*doc)[key] = std::move(out);
  }
  if (creating) {
    for (const FieldSpec& f : spec) {
      if (f.required && !doc->contains(f.name)) {
        return BadField(f.name, std::string(f.name) + " is required");
      }
    }
  }
  return std::nullopt;
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::shared_ptr<Collection> Docs(Ctx& ctx, std::string_view kind, ApiError* error) {
  auto docs = ctx.api.Docs(ctx.tenant, kind);
  if (!docs.ok()) {
    *error = FromStatus(docs.status());
    return nullptr;
  }
  return *docs;
}

// info < warning < critical, so "-severity" lists the worst first.
int SeverityRank(std::string_view severity) {
  return severity == "critical" ? 2 : severity == "warning" ? 1 : 0;
}

using ReadDocs =
    std::function<void(const std::function<void(std::span<const json::object* const>)>&)>;

// Lists the documents `read` gives with the filters `keep` decides, sorted by `sort` (a document
// field; '-' for descending), paginated.
// With format=csv, every matching row in `csv_columns` (none: the list has no CSV form).
Response ListRows(Ctx& ctx, const ReadDocs& read, std::string sort,
                  const std::vector<std::string_view>& sortable,
                  const std::function<bool(const json::object&)>& keep,
                  std::span<const std::string_view> csv_columns = {},
                  std::string_view csv_name = {}) {
  Page page;
  if (auto e = ParsePage(ctx, &page)) return Error(ctx, *e);
  bool csv = false;
  if (!csv_columns.empty()) {
    if (auto e = ParseListFormat(ctx, &page, &csv)) return Error(ctx, *e);
  }
  if (ctx.query.Has("sort")) sort = ctx.query.Get("sort");
  bool desc = sort.starts_with('-');
  std::string key = desc ? sort.substr(1) : sort;
  if (std::find(sortable.begin(), sortable.end(), key) == sortable.end()) {
    return Error(ctx, BadField("sort", "sort must be one of " + Join(sortable)));
  }
  // Filter, sort and page under the reader's lock; only the page is copied out.
  json::array items;
  size_t total = 0;
  read([&](std::span<const json::object* const> all) {
    std::vector<const json::object*> rows;
    for (const json::object* d : all) {
      if (keep(*d)) rows.push_back(d);
    }
    auto value_less = [&](const json::object* a, const json::object* b) {
      const json::value* x = a->if_contains(key);
      const json::value* y = b->if_contains(key);
      if (!x || !y) return !x && y;
      if (x->is_number() && y->is_number()) return x->to_number<double>() < y->to_number<double>();
      if (key == "severity") return SeverityRank(x->as_string()) < SeverityRank(y->as_string());
      if (x->is_string() && y->is_string()) return x->as_string() < y->as_string();
      return false;
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const json::object* a, const json::object* b) {
      return desc ? value_less(b, a) : value_less(a, b);
    });
    for (size_t i = page.offset; i < rows.size() && items.size() < page.limit; ++i) {
      items.push_back(*rows[i]);
    }
    total = rows.size();
  });
  if (csv) return RowsCsv(ctx, items, csv_columns, csv_name);
  return Json(ctx, PageJson(std::move(items), total, page));
}

// ListRows over the collection `kind`.
Response ListDocs(Ctx& ctx, std::string_view kind, std::string sort,
                  const std::vector<std::string_view>& sortable,
                  const std::function<bool(const json::object&)>& keep,
                  std::span<const std::string_view> csv_columns = {},
                  std::string_view csv_name = {}) {
  ApiError error;
  auto docs = Docs(ctx, kind, &error);
  if (!docs) return Error(ctx, error);
  return ListRows(
      ctx, [&](const auto& fn) { docs->Read(fn); }, std::move(sort), sortable, keep, csv_columns,
      csv_name);
}

// Filters of the lists: equality on a field, and a time range on another.
struct Filters {
  std::vector<std::pair<std::string, std::string>> equal;
  std::string time_field;
  int64_t from = INT64_MIN, to = INT64_MAX;

  bool Keep(const json::object& d) const {
    for (const auto& [k, v] : equal) {
      if (Str(d, k) != v) return false;
    }
    if (!time_field.empty() && (from != INT64_MIN || to != INT64_MAX)) {
      std::optional<int64_t> t = ParseTime(Str(d, time_field));
      if (!t || *t < from || *t >= to) return false;
    }
    return true;
  }
};

std::optional<ApiError> ReadFilters(const Ctx& ctx, const std::vector<FieldSpec>& enums,
                                    const std::vector<std::string_view>& plain,
                                    std::string_view time_field, Filters* f) {
  for (const FieldSpec& spec : enums) {
    if (!ctx.query.Has(spec.name)) continue;
    std::string v = ctx.query.Get(spec.name);
    if (std::find(spec.options.begin(), spec.options.end(), v) == spec.options.end()) {
      return BadField(spec.name, std::string(spec.name) + " must be one of " + Join(spec.options));
    }
    f->equal.emplace_back(spec.name, v);
  }
  for (std::string_view name : plain) {
    if (ctx.query.Has(name)) f->equal.emplace_back(name, ctx.query.Get(name));
  }
  f->time_field = time_field;
  for (auto [name, out] : {std::pair{"from", &f->from}, std::pair{"to", &f->to}}) {
    if (!ctx.query.Has(name)) continue;
    std::optional<int64_t> t = ParseTime(ctx.query.Get(name));
    if (!t) return BadField(name, std::string(name) + " must be an RFC 3339 time or epoch ms");
    *out = *t;
  }
  return std::nullopt;
}

Response GetDoc(Ctx& ctx, std::string_view kind, std::string_view noun) {
  ApiError error;
  auto docs = Docs(ctx, kind, &error);
  if (!docs) return Error(ctx, error);
  auto doc = docs->Get(ctx.Param(1));
  if (!doc) return Error(ctx, NotFound("no " + std::string(noun) + " '" + ctx.Param(1) + "'"));
  return Json(ctx, *doc);
}

std::optional<ApiError> AssetMustExist(const Ctx& ctx, const json::object& doc) {
  std::string asset = Str(doc, "asset_id");
  if (!asset.empty() && !ctx.services.storage->GetAsset(ctx.tenant, asset).ok()) {
    return BadField("asset_id", "asset_id names no asset ('" + asset + "')");
  }
  return std::nullopt;
}

// Applies a request body to a document (`creating`: a new one), checking it; a 400 otherwise.
using Apply = std::function<std::optional<ApiError>(const json::object& body, bool creating,
                                                    json::object* doc)>;

// POST of a collection: the body applied to a new document, then stored under a new id with
// who made it and when.
Response CreateDoc(Ctx& ctx, std::string_view kind, std::string_view id_prefix,
                   const Apply& apply) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  json::object doc;
  if (auto e = apply(*body, true, &doc)) return Error(ctx, *e);
  auto docs = Docs(ctx, kind, &error);
  if (!docs) return Error(ctx, error);
  std::string id = ctx.api.NewId(id_prefix);
  doc["id"] = id;
  doc["created_at"] = storage::FormatRfc3339(ctx.NowNs());
  doc["created_by"] = ctx.Actor();
  if (Status s = docs->Put(id, doc); !s.ok()) return Error(ctx, FromStatus(s));
  return Json(ctx, doc, bhttp::status::created);
}

// PATCH of one document: the body's fields over the stored ones, checked again as a whole.
// Soft-deleted documents are gone as far as PATCH is concerned.
Response UpdateDoc(Ctx& ctx, std::string_view kind, std::string_view noun, const Apply& apply) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  auto docs = Docs(ctx, kind, &error);
  if (!docs) return Error(ctx, error);
  auto doc = docs->Get(ctx.Param(1));
  if (!doc || doc->contains("deleted_at")) {
    return Error(ctx, NotFound("no " + std::string(noun) + " '" + ctx.Param(1) + "'"));
  }
  if (auto e = apply(*body, false, &*doc)) return Error(ctx, *e);
  (*doc)["updated_at"] = storage::FormatRfc3339(ctx.NowNs());
  (*doc)["updated_by"] = ctx.Actor();
  if (Status s = docs->Put(ctx.Param(1), *doc); !s.ok()) return Error(ctx, FromStatus(s));
  return Json(ctx, *doc);
}

// --- Maintenance -----------------------------------------------------------------------------

constexpr auto& kKinds = query::kMaintenanceKinds;

const std::vector<FieldSpec>& MaintenanceSpec() {
  static const std::vector<FieldSpec> spec = {
      {"asset_id", Type::kString, true},   {"kind", Type::kEnum, true, kKinds},
      {"performed_at", Type::kTime, true}, {"cost", Type::kNumber},
      {"downtime_hours", Type::kNumber},   {"notes", Type::kText},
      {"external_id", Type::kString}};
  return spec;
}

std::optional<ApiError> CheckMaintenance(const Ctx& ctx, const json::object& doc) {
  if (auto e = AssetMustExist(ctx, doc)) return e;
  for (std::string_view k : {"cost", "downtime_hours"}) {
    const json::value* v = doc.if_contains(k);
    if (v && v->to_number<double>() < 0)
      return BadField(k, std::string(k) + " must not be negative");
  }
  return std::nullopt;
}

}  // namespace

Response ListMaintenance(Ctx& ctx) {
  Filters f;
  if (auto e = ReadFilters(ctx, {{"kind", Type::kEnum, false, kKinds}}, {"asset_id"},
                           "performed_at", &f)) {
    return Error(ctx, *e);
  }
  static constexpr std::string_view kColumns[] = {"id",           "asset_id",    "kind",
                                                  "performed_at", "cost",        "downtime_hours",
                                                  "notes",        "external_id", "created_at"};
  return ListDocs(
      ctx, query::kMaintenanceKind, "-performed_at", {"performed_at", "cost", "id"},
      [&](const json::object& d) { return f.Keep(d); }, kColumns, "maintenance.csv");
}

// The fields of a maintenance record, then the record as a whole.
std::optional<ApiError> ApplyMaintenance(const Ctx& ctx, const json::object& body, bool creating,
                                         json::object* doc) {
  if (auto e = ApplyFields(body, MaintenanceSpec(), creating, doc)) return e;
  return CheckMaintenance(ctx, *doc);
}

Response CreateMaintenance(Ctx& ctx) {
  return CreateDoc(ctx, query::kMaintenanceKind, "wo_", [&](const auto& body, bool c, auto* doc) {
    return ApplyMaintenance(ctx, body, c, doc);
  });
}

Response GetMaintenance(Ctx& ctx) { return GetDoc(ctx, "maintenance", "maintenance record"); }

Response UpdateMaintenance(Ctx& ctx) {
  return UpdateDoc(
      ctx, query::kMaintenanceKind, "maintenance record",
      [&](const auto& body, bool c, auto* doc) { return ApplyMaintenance(ctx, body, c, doc); });
}

Response DeleteMaintenance(Ctx& ctx) {
  ApiError error;
  auto docs = Docs(ctx, "maintenance", &error);
  if (!docs) return Error(ctx, error);
  if (!docs->Get(ctx.Param(1))) {
    return Error(ctx, NotFound("no maintenance record '" + ctx.Param(1) + "'"));
  }
  if (Status s = docs->Erase(ctx.Param(1)); !s.ok()) return Error(ctx, FromStatus(s));
  return NoContent(ctx);
}

Response ImportMaintenance(Ctx& ctx) {
  WorkOrderImport parsed = ParseWorkOrders(ctx.req.body());
  if (!parsed.error.empty()) {
    return Error(ctx, {bhttp::status::bad_request, "invalid_csv", parsed.error, {}});
  }
  ApiError error;
  auto docs = Docs(ctx, "maintenance", &error);
  if (!docs) return Error(ctx, error);
  std::vector<std::pair<std::string, json::object>> good;
  json::array rejected;
  for (WorkOrder& w : parsed.orders) {
    if (!w.error.empty()) {
      rejected.push_back({{"row", w.row}, {"reason", w.error}});
      continue;
    }
    json::object doc;
    if (auto e = ApplyMaintenance(ctx, w.fields, true, &doc)) {
      rejected.push_back({{"row", w.row}, {"reason", e->message}});
      continue;
    }
    std::string id = w.id.empty() ? ctx.api.NewId("wo_") : w.id;
    doc["id"] = id;
    doc["created_at"] = storage::FormatRfc3339(ctx.NowNs());
    doc["created_by"] = ctx.Actor();
    doc["source"] = parsed.format;
    good.emplace_back(std::move(id), std::move(doc));
  }
  if (!good.empty()) {
    if (Status s = docs->PutMany(good); !s.ok()) return Error(ctx, FromStatus(s));
  }
  json::object o;
  o["format"] = parsed.format;
  o["imported"] = good.size();
  o["rejected"] = std::move(rejected);
  if (o["rejected"].as_array().empty()) return Json(ctx, o);
  const json::object& first = o["rejected"].as_array()[0].as_object();
  o["error"] = {{"code", "partial_import"},
                {"message", "row " + std::to_string(first.at("row").to_number<int64_t>()) + ": " +
                                std::string(first.at("reason").as_string())}};
  return Json(ctx, o, bhttp::status::bad_request);
}

// --- Rules -----------------------------------------------------------------------------------

namespace {

constexpr auto& kSeverities = query::kSeverityNames;

// The rule's fields are query's (query::ApplyRuleChange); this maps its verdict to a 400.
std::optional<ApiError> ApplyRule(const json::object& body, bool creating, json::object* doc) {
  if (Status s = query::ApplyRuleChange(body, creating, doc); !s.ok()) return FieldError(s);
  return std::nullopt;
}

// After a rule changed: the engine runs the stored rules from the next point.
Response Installed(Ctx& ctx, Response res) {
  return AfterChange(ctx, std::move(res), [&] {
    return ctx.services.alerts ? ctx.services.alerts->LoadRules(ctx.tenant) : Status::OK();
  });
}

}  // namespace

Response ListRules(Ctx& ctx) {
  Filters f;
  if (auto e =
          ReadFilters(ctx, {{"severity", Type::kEnum, false, kSeverities}}, {"metric"}, {}, &f)) {
    return Error(ctx, *e);
  }
  std::optional<bool> enabled;
  bool include_deleted = ctx.query.Get("include_deleted") == "true";
  if (ctx.query.Has("enabled")) {
    std::string v = ctx.query.Get("enabled");
    if (v != "true" && v != "false") {
      return Error(ctx, BadField("enabled", "enabled must be true or false"));
    }
    enabled = v == "true";
  }
  return ListDocs(ctx, query::kRuleKind, "id", {"id", "name", "severity", "metric"},
                  [&](const json::object& d) {
                    if (!include_deleted && d.contains("deleted_at")) return false;
                    if (enabled && d.at("enabled").as_bool() != *enabled) return false;
                    return f.Keep(d);
                  });
}

Response CreateRule(Ctx& ctx) {
  return Installed(ctx, CreateDoc(ctx, query::kRuleKind, "rule_", ApplyRule));
}

Response GetRule(Ctx& ctx) { return GetDoc(ctx, query::kRuleKind, "rule"); }

Response UpdateRule(Ctx& ctx) {
  return Installed(ctx, UpdateDoc(ctx, query::kRuleKind, "rule", ApplyRule));
}

Response DeleteRule(Ctx& ctx) {
  ApiError error;
  auto docs = Docs(ctx, query::kRuleKind, &error);
  if (!docs) return Error(ctx, error);
  auto doc = docs->Get(ctx.Param(1));
  if (!doc || doc->contains("deleted_at")) {
    return Error(ctx, NotFound("no rule '" + ctx.Param(1) + "'"));
  }
  (*doc)["deleted_at"] = storage::FormatRfc3339(ctx.NowNs());
  (*doc)["deleted_by"] = ctx.Actor();
  (*doc)["enabled"] = false;
  if (Status s = docs->Put(ctx.Param(1), *doc); !s.ok()) return Error(ctx, FromStatus(s));
  return Installed(ctx, NoContent(ctx));
}

// --- Alerts ----------------------------------------------------------------------------------

namespace {

constexpr auto& kAlertStatuses = query::kAlertStatusNames;
constexpr std::string_view kAlertColumns[] = {
    "id",    "asset_id",  "severity",        "status",      "message",    "rule_id", "metric",
    "value", "opened_at", "acknowledged_at", "resolved_at", "cleared_at", "source"};

const std::vector<FieldSpec>& AlertSpec() {
  static const std::vector<FieldSpec> spec = {
      {"asset_id", Type::kString, true}, {"severity", Type::kEnum, true, kSeverities},
      {"message", Type::kText, true},    {"metric", Type::kString},
      {"value", Type::kNumber},          {"rule_id", Type::kString}};
  return spec;
}

std::optional<ApiError> NeedAlerts(const Ctx& ctx) {
  if (ctx.services.alerts) return std::nullopt;
  return ApiError{
      bhttp::status::service_unavailable, "unavailable", "alerts are not kept by this server", {}};
}

ApiError AlertError(const Status& s) {
  if (s.code() == Status::Code::kAlreadyExists) return Conflict(std::string(s.message()));
  return FromStatus(s);
}

}  // namespace

Response ListAlerts(Ctx& ctx) {
  if (auto e = NeedAlerts(ctx)) return Error(ctx, *e);
  Filters f;
  if (auto e = ReadFilters(ctx,
                           {{"severity", Type::kEnum, false, kSeverities},
                            {"status", Type::kEnum, false, kAlertStatuses}},
                           {"asset_id", "rule_id"}, "opened_at", &f)) {
    return Error(ctx, *e);
  }
  auto alert_docs = AlertDocs(ctx);
  if (!alert_docs.ok()) return Error(ctx, FromStatus(alert_docs.status()));
  const std::vector<json::object>& docs = *alert_docs;
  return ListRows(
      ctx,
      [&](const auto& fn) {
        std::vector<const json::object*> all;
        for (const json::object& d : docs) all.push_back(&d);
        fn(all);
      },
      "-opened_at", {"opened_at", "severity", "id", "asset_id"},
      [&](const json::object& d) { return f.Keep(d); }, kAlertColumns, "alerts.csv");
}

Response CreateAlert(Ctx& ctx) {
  if (auto e = NeedAlerts(ctx)) return Error(ctx, *e);
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  json::object doc;
  if (auto e = ApplyFields(*body, AlertSpec(), true, &doc)) return Error(ctx, *e);
  if (auto e = AssetMustExist(ctx, doc)) return Error(ctx, *e);
  query::Alert alert;
  alert.rule_id = Str(doc, "rule_id");
  if (!alert.rule_id.empty()) {
    auto rules = Docs(ctx, query::kRuleKind, &error);
    if (!rules) return Error(ctx, error);
    if (!rules->Get(alert.rule_id)) {
      return Error(ctx, BadField("rule_id", "rule_id names no rule"));
    }
  }
  alert.asset_id = Str(doc, "asset_id");
  alert.metric = Str(doc, "metric");
  alert.message = Str(doc, "message");
  alert.severity = static_cast<query::Severity>(
      std::find(query::kSeverityNames.begin(), query::kSeverityNames.end(), Str(doc, "severity")) -
      query::kSeverityNames.begin());
  if (const json::value* v = doc.if_contains("value")) alert.value = v->to_number<double>();
  auto raised = ctx.services.alerts->Raise(ctx.tenant, std::move(alert), ctx.Actor());
  if (!raised.ok()) return Error(ctx, AlertError(raised.status()));
  return Json(ctx, AlertJson(*raised), bhttp::status::created);
}

Response GetAlert(Ctx& ctx) {
  if (auto e = NeedAlerts(ctx)) return Error(ctx, *e);
  auto alert = ctx.services.alerts->Get(ctx.tenant, ctx.Param(1));
  if (!alert) return Error(ctx, NotFound("no alert '" + ctx.Param(1) + "'"));
  return Json(ctx, AlertJson(*alert));
}

Response UpdateAlert(Ctx& ctx) {
  if (auto e = NeedAlerts(ctx)) return Error(ctx, *e);
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  std::optional<query::AlertStatus> to;
  std::string notes;
  for (const auto& [k, v] : *body) {
    if (k == "status") {
      if (!v.is_string() || (v.as_string() != "acknowledged" && v.as_string() != "resolved")) {
        return Error(ctx, BadField("status", "status must be acknowledged or resolved"));
      }
      to = v.as_string() == "acknowledged" ? query::AlertStatus::kAcknowledged
                                           : query::AlertStatus::kResolved;
    } else if (k == "notes") {
      if (!v.is_string() || v.as_string().size() > 4096) {
        return Error(ctx, BadField("notes", "notes must be a string of at most 4096 characters"));
      }
      notes = v.as_string();
    } else {
      return Error(ctx, BadField(k, "unknown field '" + std::string(k) + "'"));
    }
  }
  if (!to) return Error(ctx, BadField("status", "status is required"));
  auto updated = ctx.services.alerts->Update(ctx.tenant, ctx.Param(1), *to, ctx.Actor(), notes);
  if (!updated.ok()) return Error(ctx, AlertError(updated.status()));
  return Json(ctx, AlertJson(*updated));
}

json::object AlertJson(const query::Alert& a) {
  json::object o = {{"id", a.id},
                    {"asset_id", a.asset_id},
                    {"severity", query::kSeverityNames[static_cast<size_t>(a.severity)]},
                    {"message", a.message},
                    {"status", query::kAlertStatusNames[static_cast<size_t>(a.status)]},
                    {"opened_at", storage::FormatRfc3339(a.opened_ns)},
                    {"source", a.history.empty() || a.history[0].by != "rule" ? "user" : "rule"}};
  if (!a.rule_id.empty()) o["rule_id"] = a.rule_id;
  if (!a.metric.empty()) o["metric"] = a.metric;
  if (a.value) o["value"] = *a.value;
  json::array history;
  for (const query::AlertStep& step : a.history) {
    std::string_view status = query::kAlertStatusNames[static_cast<size_t>(step.status)];
    json::object h = {
        {"status", status}, {"by", step.by}, {"at", storage::FormatRfc3339(step.at_ns)}};
    if (!step.notes.empty()) h["notes"] = step.notes;
    if (step.status != query::AlertStatus::kOpen) {
      o[std::string(status) + "_at"] = h["at"];
      o[std::string(status) + "_by"] = step.by;
      if (!step.notes.empty()) o["notes"] = step.notes;
    }
    history.push_back(std::move(h));
  }
  if (a.status == query::AlertStatus::kResolved)
    o["cleared_at"] = storage::FormatRfc3339(a.closed_ns);
  o["history"] = std::move(history);
  return o;
}

Result<std::vector<json::object>> AlertDocs(const Ctx& ctx) {
  std::vector<json::object> out;
  if (!ctx.services.alerts) return out;
  Status s = ctx.services.alerts->Read(ctx.tenant, [&](std::span<const query::Alert* const> all) {
    out.reserve(all.size());
    for (const query::Alert* a : all) out.push_back(AlertJson(*a));
  });
  if (!s.ok()) return s;
  return out;
}

Result<query::AlertCountsByAsset> OpenAlertsByAsset(const Ctx& ctx) {
  return query::OpenAlertsByAsset(ctx.services.alerts, ctx.tenant);
}

Response AfterChange(Ctx& ctx, Response res, const std::function<Status()>& install) {
  if (res.result_int() >= 300) return res;
  if (Status s = install(); !s.ok()) return Error(ctx, FromStatus(s));
  return res;
}

}  // namespace foresight::http
