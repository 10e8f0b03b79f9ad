// query/query.h — the live engine: rolling windows over the newest points of every series, and
// the alert rules evaluated on them as points arrive.
//
// Purpose: for every numeric series, the aggregates of its last 5 minutes, 1 hour and 24 hours
// (count, mean, min, max, standard deviation) and its newest value and time, kept current by
// the ingest path and readable from any thread without locks (Windows); and per tenant the
// threshold rules checked against every accepted point, with the alerts they open and resolve
// (Alerts, further down).
//
// Windows: a window ends at the series' newest timestamp T (event time, not the wall clock: a
// series that stops reporting keeps its last windows, and T says how old they are). Each window
// is a ring of slots aligned to multiples of the slot width since the epoch:
//   5 min = 30 slots of 10 s,  1 h = 60 slots of 1 min,  24 h = 24 slots of 1 h,
// and holds the points with  floor(T / width) * width - (slots - 1) * width <= ts <= T,
// that is the slot holding T and the slots - 1 before it. Window::from_ns names that start.
//
// Exactness: after any stream of appended points a window equals the aggregate of the stored
// points in its range (count, min, max and last exactly; sums up to floating-point rounding).
// An in-order point (newer than T) is added. Each series remembers its newest 256 distinct
// timestamps, so a point before T whose timestamp is newer than the oldest of them and not
// among them (concurrent requests interleaving) is known to be new and is added too. Any other
// point at or before T (rewriting a timestamp, where the last write wins, or older than those
// 256) makes its slot be re-read from storage, which already holds the point and has resolved
// duplicates. This relies on one writer at a time per series, which the ingest path gives for
// one sender per series; two senders writing the same series at the same instant can count a
// point twice in one slot until it expires.
//
// Threading: Apply may be called from any number of threads; calls serialise per shard of
// series (16 shards, a mutex each), so a series has one writer at a time. Read never locks:
// each series publishes its windows under a seqlock (an atomic sequence, odd while the writer
// updates relaxed-atomic fields; a reader retries until it sees the same even sequence before
// and after its copy). The series index is two levels of atomic pointers, filled once and
// never freed while the Windows lives.
//
// Ownership: the Storage must outlive the Windows.
//
// Errors: nothing throws across this header. Apply and Rebuild fail only on storage errors;
// string series and series ids past kMaxSeriesPerTenant are not tracked.
//
// Cost: an in-order point is O(1) per window (a slot that expires is subtracted; min and max
// are recomputed over the ring once per batch, and only when an expired slot held one of them);
// a late new point costs a search of the 256 timestamps; a re-read is one ReadDownsampled.
// Memory is about 7 KB per tracked series, 2 KB of it the recent timestamps.
#pragma once

#include "storage/json.h"
#include "storage/storage.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace foresight::query {

enum class Span : uint8_t { k5m = 0, k1h = 1, k24h = 2 };
inline constexpr size_t kSpans = 3;
struct SpanShape {
  std::string_view name;  // "5m", "1h", "24h"
  int64_t width_ns;       // one slot
  int slots;
};
inline constexpr std::array<SpanShape, kSpans> kSpanShapes = {{
    {"5m", 10'000'000'000, 30},
    {"1h", 60'000'000'000, 60},
    {"24h", 3'600'000'000'000, 24},
}};

// Tracked series per tenant: ids 1 .. kMaxSeriesPerTenant - 1.
inline constexpr uint32_t kMaxSeriesPerTenant = 1u << 22;

struct Window {
  int64_t from_ns = 0;  // the window's first admissible timestamp
  uint64_t count = 0;
  double sum = 0, sum_squares = 0;
  double min = 0, max = 0;  // meaningful when count > 0
  double mean() const { return count ? sum / static_cast<double>(count) : 0; }
  // Population standard deviation.
  double stddev() const;
};

struct SeriesWindows {
  int64_t last_ts_ns = 0;  // T, the newest point
  double last = 0;         // its value
  std::array<Window, kSpans> windows;
  const Window& operator[](Span s) const { return windows[static_cast<size_t>(s)]; }
};

class Windows {
 public:
  // `storage` must outlive the Windows.
  explicit Windows(storage::Storage* storage);
  ~Windows();
  Windows(const Windows&) = delete;
  Windows& operator=(const Windows&) = delete;

  // Folds in samples that storage->Append(tenant, samples) has just made durable.
  Status Apply(storage::TenantId tenant, std::span<const storage::Sample> samples);

  // The series' windows, or nullopt when it has no tracked point. Lock-free.
  std::optional<SeriesWindows> Read(storage::TenantId tenant, storage::SeriesId series) const;

  // Sets every numeric series of `tenant` from storage (its newest point, then each window's
  // slots from ReadDownsampled, so rollups rather than raw points where they exist). Call on
  // start, before Apply sees that tenant's writes.
  Status Rebuild(storage::TenantId tenant);

  // Series tracked, over all tenants.
  size_t tracked() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- Rules and alerts ----------------------------------------------------------------------
//
// A rule watches one metric (a series' field name) of the assets in its scope: on every accepted
// point of a matching series it compares either the point's value or an aggregate of one of the
// series' windows (as of the end of the batch that carried the point) with its threshold.
//
// Per (rule, asset) there is at most one alert that is open or acknowledged. Rules run in event
// time, the points' own timestamps:
//   - opening: the condition has held on every point for at least for_ns since the first point
//     that met it, and the last alert of this (rule, asset) closed at least cooldown_ns before;
//   - clearing: the open alert resolves by itself at the first point where the value is below
//     clear_threshold (gt, gte) or above it (lt, lte), or, without a clear threshold, where the
//     condition no longer holds; the clearing point's time starts the cooldown;
//   - a point older than the newest one the (rule, asset) has seen changes nothing.
// Changes to rules (SetRules) and to assets (AssetsChanged) apply from the next batch. An alert
// whose rule is disabled or deleted stays open until a user resolves it.
//
// Durability: every transition (opened, acknowledged, resolved) is written to storage records
// (kind "alert", the catalog fsync policy) before it is visible or announced, so after a crash
// the same alerts come back with the same ids, and an open alert keeps its (rule, asset) from
// opening a second one. The for-duration in progress is not kept: it restarts after a restart.
//
// Threading: every method may be called from any thread. Evaluate takes a tenant's alert lock
// only for batches that carry a point some rule watches; listeners run under it, in transition
// order, on the thread that made the transition, so they must only queue work.
//
// Cost: a batch of a tenant without rules costs a map lookup. Otherwise each sample costs a hash
// lookup of its series (the first sight of a series after a rule or asset change also reads its
// catalog entry), plus the rule checks of the series it matches.

enum class Op : uint8_t { kGt, kGte, kLt, kLte, kEq, kNe };
inline constexpr std::array<std::string_view, 6> kOpNames = {"gt", "gte", "lt", "lte", "eq", "ne"};
enum class Aggregate : uint8_t { kMean, kMin, kMax, kStddev, kCount, kLast };
inline constexpr std::array<std::string_view, 6> kAggregateNames = {"mean",   "min",   "max",
                                                                    "stddev", "count", "last"};
enum class Severity : uint8_t { kInfo, kWarning, kCritical };
inline constexpr std::array<std::string_view, 3> kSeverityNames = {"info", "warning", "critical"};
enum class AlertStatus : uint8_t { kOpen, kAcknowledged, kResolved };
inline constexpr std::array<std::string_view, 3> kAlertStatusNames = {"open", "acknowledged",
                                                                      "resolved"};

struct Rule {
  std::string id;
  std::string name;
  std::string metric;  // a series' field name
  Op op = Op::kGt;
  double threshold = 0;
  std::optional<double> clear_threshold;   // gt, gte: clears below it; lt, lte: above it
  std::optional<Span> window;              // nullopt: the raw value
  Aggregate aggregate = Aggregate::kMean;  // of the window
  // Scope; an empty field matches every asset. asset_type and site are asset attributes.
  std::string asset_type, site, asset_id;
  int64_t for_ns = 0;
  int64_t cooldown_ns = 0;
  Severity severity = Severity::kWarning;
  bool enabled = true;
};

struct AlertStep {
  AlertStatus status = AlertStatus::kOpen;
  std::string by;     // the user, or "rule" for the rule's own transitions
  int64_t at_ns = 0;  // wall clock
  std::string notes;
};

struct Alert {
  std::string id;
  std::string rule_id;  // empty for an alert raised by hand without a rule
  std::string asset_id, metric, message;
  Severity severity = Severity::kWarning;
  std::optional<double> value;  // the value that opened it
  AlertStatus status = AlertStatus::kOpen;
  int64_t opened_ns = 0;  // the opening point's time (the wall clock for one raised by hand)
  int64_t closed_ns = 0;  // resolved: the time its cooldown counts from
  std::vector<AlertStep> history;  // oldest first; the first step opened it
};

struct AlertEvent {
  storage::TenantId tenant = 0;
  const Alert* alert = nullptr;  // after the transition; history.back() is the step
};
using AlertListener = std::function<void(const AlertEvent&)>;

struct AlertStats {
  uint64_t points_checked = 0;  // (point, rule) pairs evaluated
  uint64_t opened = 0;
  uint64_t resolved_by_rule = 0;
  uint64_t held_by_cooldown = 0;  // points that met a condition while its cooldown ran
  uint64_t write_failures = 0;
};

// Rules are kept as storage records of kind kRuleKind, one JSON document per rule written by the
// API (fields in query/README.md); a deleted rule keeps its record with "deleted_at" set.
inline constexpr std::string_view kRuleKind = "rule";
// A change to a rule as a client sends it — a JSON object of the record's fields (query/README.md),
// null clearing an optional one — applied over `record`: the stored rule, or with `creating`
// the defaults (source raw, aggregate mean, no scope, for and cooldown 0, severity warning,
// enabled) for a new one. Checks every field, then the rule as a whole (CheckClearThreshold),
// and that a new rule names every required field (name, metric, operator, threshold). The
// bookkeeping fields (id, created_at, ...) are the caller's, not the client's. On failure,
// InvalidArgument "<field>: <why>" for the first field that is wrong, and `record` unchanged.
Status ApplyRuleChange(const boost::json::object& change, bool creating,
                       boost::json::object* record);
// A rule record as the engine runs it; nullopt for a deleted rule; Corruption for a record that
// is not a rule.
Result<std::optional<Rule>> DecodeRule(std::string_view record);
// The one constraint between a rule's fields: a clear threshold lies on the cleared side of the
// threshold (gt, gte: not above it; lt, lte: not below it) and eq, ne take none.
// InvalidArgument with a message naming clear_threshold otherwise.
Status CheckClearThreshold(Op op, double threshold, double clear_threshold);

// A tenant's alerts as stored, in id order (for readers without an Alerts, such as features).
Result<std::vector<Alert>> ReadAlerts(const storage::Storage& storage, storage::TenantId tenant);

class Alerts {
 public:
  // `asset_tag` is the tag that names a series' asset (the ingest setting). `storage` and
  // `windows` must outlive the Alerts.
  Alerts(storage::Storage* storage, const Windows* windows, std::string asset_tag);
  ~Alerts();
  Alerts(const Alerts&) = delete;
  Alerts& operator=(const Alerts&) = delete;

  // Replaces a tenant's rules (disabled ones are kept out). Takes effect from the next batch.
  void SetRules(storage::TenantId tenant, std::vector<Rule> rules);
  // SetRules with the tenant's stored rule records (a record that does not decode is logged and
  // skipped). Call on start and after every change to them. Fails only on a storage error.
  Status LoadRules(storage::TenantId tenant);
  // An asset's attributes changed: scopes are matched again from the next batch.
  void AssetsChanged(storage::TenantId tenant);
  // Called with every transition, in order. Add listeners before traffic starts.
  void AddListener(AlertListener listener);

  // Checks the rules against samples that storage has just made durable, after the Windows saw
  // them. Fails only when a transition could not be written (the others still happen).
  Status Evaluate(storage::TenantId tenant, std::span<const storage::Sample> samples);

  // An alert raised by a user. AlreadyExists when it names a rule whose alert for that asset is
  // still open.
  Result<Alert> Raise(storage::TenantId tenant, Alert alert, std::string_view by);
  // Acknowledges or resolves. NotFound for an unknown id; AlreadyExists when the alert is
  // already in that state or resolved; InvalidArgument when `to` is kOpen.
  Result<Alert> Update(storage::TenantId tenant, std::string_view id, AlertStatus to,
                       std::string_view by, std::string_view notes);
  std::optional<Alert> Get(storage::TenantId tenant, std::string_view id) const;
  // Calls `fn` once with every alert of the tenant in id order, under its shared lock: copy out
  // what is needed; the pointers die when it returns. Fails when the alerts cannot be loaded.
  Status Read(storage::TenantId tenant,
              const std::function<void(std::span<const Alert* const>)>& fn) const;

  AlertStats GetStats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- Reports ---------------------------------------------------------------------------------
//
// The fleet summary, daily trends, cost avoidance and the per-asset report, computed from what
// their owners keep: assets and series (storage), alerts (Alerts, or ReadAlerts without one),
// and two kinds of storage records the API writes: maintenance records (kMaintenanceKind, one
// JSON document each) and the tenant's report settings (kSettingsKind, id "tenant"). The
// arithmetic is written out in query/README.md; http/ renders the results as JSON and CSV.
//
// Threading: every function may be called from any thread. Errors: storage errors, and NotFound
// for an asset that does not exist. Cost: each reads the tenant's assets and alerts once; trends
// one ReadDownsampled per matching series (rollups where they exist).

inline constexpr std::string_view kMaintenanceKind = "maintenance";
inline constexpr std::array<std::string_view, 4> kMaintenanceKinds = {"preventive", "corrective",
                                                                      "inspection", "failure"};
struct MaintenanceRecord {
  std::string id, asset_id, kind;
  int64_t performed_ns = 0;
  std::optional<double> cost;  // none: the cost model's estimate
  double downtime_hours = 0;
};
// A tenant's maintenance records that are not deleted, in id order. A record without an asset,
// a kind or an RFC 3339 performed_at is skipped with a warning in the log.
Result<std::vector<MaintenanceRecord>> ReadMaintenance(const storage::Storage& storage,
                                                       storage::TenantId tenant);

// An asset's "criticality" attribute, lowest first; an asset without one counts as medium.
inline constexpr std::array<std::string_view, 4> kCriticalities = {"low", "medium", "high",
                                                                   "critical"};
struct CostModel {
  std::string currency = "USD";
  // The cost of one unplanned failure by asset criticality (kCriticalities).
  std::map<std::string, double, std::less<>> unplanned_failure_cost = {
      {"low", 5000}, {"medium", 20000}, {"high", 75000}, {"critical", 250000}};
  double planned_to_unplanned_ratio = 0.25;  // a planned job's cost when its record has none
  int lookback_days = 30;                    // how far back an alert counts as the warning
};
struct ReportSettings {
  CostModel cost_model;
  double at_risk_below_health = 60;
};
inline constexpr std::string_view kSettingsKind = "settings";
// The stored settings, or the defaults above when the tenant has none. A stored field that is
// missing or of the wrong type keeps its default.
Result<ReportSettings> ReadSettings(const storage::Storage& storage, storage::TenantId tenant);
// Stores the settings (the record's fields are ReportSettings' names: cost_model {currency,
// unplanned_failure_cost, planned_to_unplanned_ratio, lookback_days}, risk
// {at_risk_below_health}). For a value out of range, InvalidArgument "<field>: <why>", as in
// "cost_model.lookback_days: lookback_days must be an integer from 1 to 365".
Status WriteSettings(storage::Storage* storage, storage::TenantId tenant,
                     const ReportSettings& settings);

// Open (or acknowledged) alerts of one asset by severity.
struct AlertCounts {
  int open = 0;
  int critical = 0;
  int warning = 0;
  int info = 0;
  void Add(Severity severity);
};
using AlertCountsByAsset = std::map<std::string, AlertCounts, std::less<>>;
// Open alerts per asset id; none without an Alerts. Fails when the alerts cannot be loaded.
Result<AlertCountsByAsset> OpenAlertsByAsset(const Alerts* alerts, storage::TenantId tenant);
// The counts of asset `id`: zero when it has no open alert.
AlertCounts CountsFor(const AlertCountsByAsset& counts, std::string_view id);
// An asset's health until models score it: 100 less 30 per open critical alert, 10 per warning
// and 2 per info, never below 0.
int HealthScore(const AlertCounts& counts);

// What a report reads. `alerts` may be null (a server that keeps none): counts are then zero.
struct ReportSources {
  const storage::Storage* storage = nullptr;
  const Alerts* alerts = nullptr;
  std::string asset_tag = "asset_id";  // the tag that names a series' asset
};

struct FleetSummary {
  size_t assets = 0;
  std::map<std::string, int64_t>
      assets_by_status;        // the asset attribute "status", "active" if none
  int64_t assets_at_risk = 0;  // health below at_risk_below_health
  AlertCounts open_alerts;
  std::optional<double> fleet_health;  // mean health, one decimal; none without assets
};
Result<FleetSummary> SummarizeFleet(const ReportSources& sources, storage::TenantId tenant);

// Which assets a trend aggregates: one (asset_id), those of one asset type (the asset attribute
// "asset_type"), or (both empty) the fleet.
struct TrendScope {
  std::string asset_id = {};
  std::string asset_type = {};
};
// Per UTC day from the day `days - 1` before `now_ns`'s to that day: the aggregate of `metric`
// over every numeric series of that name of the assets in `scope`. Days without a point are left
// out; each bucket's start_ns is its midnight.
Result<std::vector<storage::Bucket>> DailyTrend(const ReportSources& sources,
                                                storage::TenantId tenant, std::string_view metric,
                                                const TrendScope& scope, int days, int64_t now_ns);

// What happened on one UTC day: alerts opened (by severity; `open` counts them all), failures
// (maintenance records of kind "failure") and other maintenance performed.
struct DayEvents {
  int64_t day_ns = 0;  // its midnight
  AlertCounts alerts_opened;
  int failures = 0;
  int maintenance = 0;
};
// Every day from the day `days - 1` before `now_ns`'s to that day, oldest first, quiet days
// included.
Result<std::vector<DayEvents>> DailyEvents(const ReportSources& sources, storage::TenantId tenant,
                                           int days, int64_t now_ns);

// A preventive or corrective job that an alert of its asset warned of (opened within the
// lookback before the job): the unplanned failure it avoided, at the cost model's price.
struct Intervention {
  std::string maintenance_id, asset_id, criticality;
  int64_t performed_ns = 0;
  double unplanned_cost_avoided = 0;
  double planned_cost = 0;
  double savings() const { return unplanned_cost_avoided - planned_cost; }
};
struct CostAvoidance {
  std::string currency;
  int days = 0;
  double unplanned_cost_avoided = 0;
  double planned_cost = 0;
  int64_t failures = 0;  // failure records in the range
  double failure_cost = 0;
  std::vector<Intervention> interventions;  // in maintenance id order
  double net_savings() const { return unplanned_cost_avoided - planned_cost; }
};
// Over the maintenance performed in the `days` before `now_ns`.
Result<CostAvoidance> ComputeCostAvoidance(const ReportSources& sources, storage::TenantId tenant,
                                           int days, int64_t now_ns);

struct LatestValue {
  int64_t ts_ns = 0;
  double value = 0;
};
struct AssetReport {
  storage::Asset asset;
  AlertCounts open_alerts;
  int64_t alerts_last_30_days = 0;  // opened in the 30 days before now_ns
  std::map<std::string, int64_t> maintenance_by_kind;
  double maintenance_cost = 0;
  double downtime_hours = 0;
  std::optional<int64_t> last_maintenance_ns;
  std::map<std::string, LatestValue> latest;  // newest value of each numeric metric
};
Result<AssetReport> ReportAsset(const ReportSources& sources, storage::TenantId tenant,
                                std::string_view asset_id, int64_t now_ns);

// --- InfluxQL ----------------------------------------------------------------------------------
// The subset of InfluxQL that Grafana's InfluxDB data source and the influx CLI send, answered
// over one tenant's stored series (query/README.md lists it). A series is found by its
// measurement and tags, whether or not it names an asset; each field is one column.
//
// Aggregates over GROUP BY time come from storage's rollup tiers whenever the interval is a
// whole number of minutes (hours, days) and the offset keeps bucket edges on the tier's edges,
// and from raw points otherwise; both give the same answers (sums up to floating-point
// rounding). Points are read only within the WHERE clause's time range.
//
// Threading: thread-safe (reads only). Cost: one ListSeries of the tenant per statement, then
// one read per matching series and field.

// A cell: null, an integer (the time column holds ns since the epoch), a float, a boolean or a
// string.
using InfluxCell = std::variant<std::monostate, int64_t, double, bool, std::string>;
struct InfluxSeries {
  std::string name;
  std::vector<std::pair<std::string, std::string>> tags;  // the GROUP BY tags, sorted by key
  std::vector<std::string> columns;
  std::vector<std::vector<InfluxCell>> values;
  bool time_first = false;  // columns[0] is "time"
};
// One statement's answer: its series, or the error that stopped it.
struct InfluxStatement {
  std::vector<InfluxSeries> series;
  std::string error;
};
struct InfluxQlOptions {
  int64_t now_ns = 0;    // what now() means
  std::string database;  // the one database SHOW DATABASES lists (the tenant's name)
  // Bounds: a statement that would read more series or points (rollup buckets count as one
  // point each), output more GROUP BY time buckets, or run longer is stopped with an error.
  size_t max_series = 100'000;
  size_t max_points = 50'000'000;
  size_t max_buckets = 1'000'000;
  std::chrono::milliseconds timeout{30'000};
  bool use_rollups = true;  // false reads raw points only (tests compare the two)
};
// Parses and runs `text` (statements separated by ';'). Fails with InvalidArgument ("error
// parsing query: ...", InfluxDB's wording) when the text does not parse; otherwise one
// InfluxStatement per statement, each with its series or its error (an unsupported feature is
// named, never answered wrongly), and only storage errors fail the call.
Result<std::vector<InfluxStatement>> RunInfluxQl(const storage::Storage& storage,
                                                 storage::TenantId tenant, std::string_view text,
                                                 const InfluxQlOptions& options);

// --- PromQL ------------------------------------------------------------------------------------
// The Prometheus HTTP API's subset Grafana's Prometheus data source uses (query/README.md lists
// it). A stored series is the Prometheus series named <measurement>_<field> (a field named
// "value", as remote write stores samples, gives <measurement> alone), with its tags as labels;
// characters a metric or label name may not hold become '_'. Samples are the numeric points;
// strings are not series.
//
// Threading: thread-safe (reads only). Cost: one ListSeries per call, then one raw read per
// matching series over the whole range of a query (steps are evaluated in memory).

using PromLabels = std::vector<std::pair<std::string, std::string>>;  // sorted by name
struct PromSample {
  int64_t ts_ns = 0;
  double value = 0;
};
struct PromSeries {
  PromLabels labels;
  std::vector<PromSample> samples;  // one for an instant vector; a range's in time order
};
struct PromResult {
  enum class Type : uint8_t { kVector, kMatrix, kScalar } type = Type::kVector;
  std::vector<PromSeries> series;  // kScalar: one series, no labels
};
struct PromOptions {
  int64_t lookback_ns = 300'000'000'000;  // an instant selector's staleness window (5 min)
  size_t max_series = 100'000;
  size_t max_points = 50'000'000;
  std::chrono::milliseconds timeout{30'000};
  size_t max_steps = 11'000;  // Prometheus' own bound on a range query's resolution
};
// Evaluates `expr` at `time_ns` (an instant query), or at every step from start to end (a range
// query: kMatrix). Fails with InvalidArgument naming what does not parse, what is not supported
// or which bound was passed; storage errors otherwise.
Result<PromResult> PromInstantQuery(const storage::Storage& storage, storage::TenantId tenant,
                                    std::string_view expr, int64_t time_ns,
                                    const PromOptions& options);
Result<PromResult> PromRangeQuery(const storage::Storage& storage, storage::TenantId tenant,
                                  std::string_view expr, int64_t start_ns, int64_t end_ns,
                                  int64_t step_ns, const PromOptions& options);
// The label sets of the stored series matching any of `selectors` (every series when empty),
// sorted, whatever the time of their samples: /api/v1/series, labels and label values.
Result<std::vector<PromLabels>> PromSeriesMatching(const storage::Storage& storage,
                                                   storage::TenantId tenant,
                                                   std::span<const std::string> selectors);

}  // namespace foresight::query
