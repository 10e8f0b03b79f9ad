// The fleet the models learn from, read from the records its owners keep: assets and series
// from storage, maintenance records (the API's documents of kind "maintenance"), alerts from
// query.
#include "ml/ml.h"
#include "query/query.h"

#include <simdjson.h>

#include <algorithm>
#include <map>

namespace foresight::ml {
namespace {

constexpr std::string_view kMaintenanceKind = "maintenance";

std::string_view Attribute(const storage::Asset& asset, std::string_view key) {
  for (const auto& [k, v] : asset.attributes) {
    if (k == key) return v;
  }
  return {};
}

}  // namespace

int CriticalityRank(std::string_view criticality) {
  for (size_t i = 0; i < kCriticalities.size(); ++i) {
    if (kCriticalities[i] == criticality) return static_cast<int>(i);
  }
  return 1;
}

Result<Fleet> LoadFleet(const storage::Storage& storage, storage::TenantId tenant,
                        std::string_view asset_tag) {
  Fleet fleet;
  fleet.tenant = tenant;
  std::map<std::string, uint32_t, std::less<>> index;
  for (const storage::Asset& a : storage.ListAssets(tenant)) {
    FleetAsset asset;
    asset.id = a.id;
    asset.criticality = CriticalityRank(Attribute(a, "criticality"));
    // The API keeps installed_at as RFC 3339; an asset ingest made from tags may have none.
    Result<int64_t> installed = storage::ParseRfc3339(Attribute(a, "installed_at"));
    asset.installed_ns = installed.ok() ? *installed : a.created_ns;
    index.emplace(a.id, static_cast<uint32_t>(fleet.assets.size()));
    fleet.assets.push_back(std::move(asset));
  }
  for (const storage::SeriesInfo& s : storage.ListSeries(tenant)) {
    if (s.type == storage::ValueType::kString) continue;
    for (const auto& [k, v] : s.key.tags) {
      if (k != asset_tag) continue;
      auto it = index.find(v);
      if (it != index.end()) fleet.assets[it->second].metrics.emplace_back(s.key.field, s.id);
      break;
    }
  }
  for (FleetAsset& a : fleet.assets) {
    // One series per metric name: the first created wins.
    std::stable_sort(a.metrics.begin(), a.metrics.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    a.metrics.erase(std::unique(a.metrics.begin(), a.metrics.end(),
                                [](const auto& x, const auto& y) { return x.first == y.first; }),
                    a.metrics.end());
  }

  auto records = storage.ScanRecords(tenant, kMaintenanceKind, {});
  if (!records.ok()) return records.status();
  simdjson::dom::parser parser;
  for (const auto& [id, text] : *records) {
    simdjson::dom::object doc;
    if (parser.parse(text).get(doc) != simdjson::SUCCESS) continue;
    if (doc["deleted_at"].error() == simdjson::SUCCESS) continue;
    std::string_view asset, performed_at, kind;
    if (doc["asset_id"].get(asset) != simdjson::SUCCESS ||
        doc["performed_at"].get(performed_at) != simdjson::SUCCESS) {
      continue;
    }
    auto it = index.find(asset);
    Result<int64_t> ts = storage::ParseRfc3339(performed_at);
    if (it == index.end() || !ts.ok()) continue;
    const bool failure =
        doc["kind"].get(kind) == simdjson::SUCCESS && (kind == "failure" || kind == "corrective");
    fleet.maintenance.push_back({it->second, *ts, failure});
  }

  auto alerts = query::ReadAlerts(storage, tenant);
  if (!alerts.ok()) return alerts.status();
  for (const query::Alert& a : *alerts) {
    auto it = index.find(std::string_view(a.asset_id));
    if (it != index.end()) fleet.alerts.push_back({it->second, a.opened_ns, false});
  }
  return fleet;
}

}  // namespace foresight::ml
