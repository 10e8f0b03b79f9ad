// The fleet the models learn from, read from the records its owners keep: assets and series
// from storage, maintenance records and alerts from query.
#include "ml/ml.h"
#include "query/query.h"

#include <algorithm>
#include <map>

namespace foresight::ml {
namespace {

std::string_view Attribute(const storage::Asset& asset, std::string_view key) {
  for (const auto& [k, v] : asset.attributes) {
    if (k == key) return v;
  }
  return {};
}

}  // namespace

int CriticalityRank(std::string_view criticality) {
  for (size_t i = 0; i < query::kCriticalities.size(); ++i) {
    if (query::kCriticalities[i] == criticality) return static_cast<int>(i);
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
  for (const storage::SeriesInfo& s : *storage.SeriesSnapshot(tenant)) {
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

  auto maintenance = query::ReadMaintenance(storage, tenant);
  if (!maintenance.ok()) return maintenance.status();
  for (const query::MaintenanceRecord& m : *maintenance) {
    auto it = index.find(std::string_view(m.asset_id));
    if (it == index.end()) continue;
    const bool failure = m.kind == "failure" || m.kind == "corrective";
    fleet.maintenance.push_back({it->second, m.performed_ns, failure});
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
