#include "tools/ml_commands.h"

#include "ml/ml.h"
#include "tools/client.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace foresight::tools {
namespace {

namespace json = boost::json;

int Fail(const std::string& message) {
  std::fprintf(stderr, "foresight: %s\n", message.c_str());
  return 1;
}

// A signed-in session, or a message saying why not.
struct Session {
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<ApiSession> api;
};
Result<Session> Connect(const ModelClientArgs& a) {
  if (a.tenant.empty() || a.client_id.empty()) {
    return Status::InvalidArgument("--tenant and --client-id (with --client-secret) are needed");
  }
  auto endpoint = ParseEndpoint(a.url, 8080);
  if (!endpoint.ok()) return endpoint.status();
  Session s;
  s.http = std::make_unique<HttpClient>(*endpoint);
  s.api = std::make_unique<ApiSession>(s.http.get(), a.tenant, a.client_id, a.client_secret);
  if (Status st = s.api->SignIn(); !st.ok()) return st;
  return s;
}

Result<json::value> CallJson(ApiSession& api, std::string_view method, std::string_view path,
                             std::string_view body, int expected) {
  auto r = api.Call(method, path, body);
  if (!r.ok()) return r.status();
  if (r->status != expected) return Refused(std::string(method) + " " + std::string(path), *r);
  auto v = storage::ParseJson(r->body);
  if (!v.ok()) return Status::IOError(std::string(path) + ": the answer is not JSON");
  return v;
}

double Number(const json::value& v) { return v.is_number() ? v.to_number<double>() : NAN; }

// One CSV line into fields; double quotes may wrap a field and "" inside one is a quote.
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

struct Table {
  std::vector<std::string> features;
  std::vector<std::vector<double>> rows;
  std::vector<float> labels;
};

Result<Table> ReadCsv(const TrainArgs& args) {
  std::ifstream in(args.csv);
  if (!in) return Status::NotFound("cannot read " + args.csv);
  std::string line;
  if (!std::getline(in, line)) return Status::InvalidArgument(args.csv + " is empty");
  if (line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // a UTF-8 byte-order mark
  const std::vector<std::string> header = SplitCsv(line);
  const auto label_at = std::find(header.begin(), header.end(), args.label);
  if (label_at == header.end()) {
    return Status::InvalidArgument("no column '" + args.label + "' in " + args.csv);
  }
  for (const std::string& d : args.drop) {
    if (std::find(header.begin(), header.end(), d) == header.end()) {
      return Status::InvalidArgument("--drop: no column '" + d + "' in " + args.csv);
    }
  }
  std::vector<std::vector<std::string>> cells;
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    auto fields = SplitCsv(line);
    if (fields.size() != header.size()) {
      return Status::InvalidArgument(args.csv + " line " + std::to_string(line_no) + ": " +
                                     std::to_string(fields.size()) + " fields, the header has " +
                                     std::to_string(header.size()));
    }
    cells.push_back(std::move(fields));
  }
  Table t;
  const size_t label = label_at - header.begin();
  for (const auto& row : cells) {
    char* end = nullptr;
    const double v = std::strtod(row[label].c_str(), &end);
    if (end == row[label].c_str() || *end != '\0') {
      return Status::InvalidArgument("label '" + row[label] + "' is not a number");
    }
    t.labels.push_back(static_cast<float>(v));
  }
  t.rows.assign(cells.size(), {});
  for (size_t c = 0; c < header.size(); ++c) {
    if (c == label || std::count(args.drop.begin(), args.drop.end(), header[c])) continue;
    t.features.push_back(header[c]);
    // Numbers as they are; a column with any text becomes ordinal codes.
    std::set<std::string> texts;
    std::vector<double> values;
    for (const auto& row : cells) {
      char* end = nullptr;
      const double v = std::strtod(row[c].c_str(), &end);
      if (row[c].empty()) {
        values.push_back(NAN);
      } else if (end == row[c].c_str() || *end != '\0') {
        texts.insert(row[c]);
        values.push_back(NAN);
      } else {
        values.push_back(v);
      }
    }
    if (!texts.empty()) {
      for (const auto& row : cells) texts.insert(row[c]);
      std::fprintf(stderr, "train: column '%s' is text: coded 0..%zu in sorted order\n",
                   header[c].c_str(), texts.size() - 1);
      for (size_t r = 0; r < cells.size(); ++r) {
        values[r] = static_cast<double>(std::distance(texts.begin(), texts.find(cells[r][c])));
      }
    }
    for (size_t r = 0; r < cells.size(); ++r) t.rows[r].push_back(values[r]);
  }
  if (t.features.empty()) return Status::InvalidArgument("no feature columns left");
  return t;
}

json::array Rows(const Table& t, const std::vector<size_t>& which) {
  json::array rows;
  for (size_t r : which) {
    json::array row;
    for (double v : t.rows[r]) row.push_back(std::isnan(v) ? json::value(nullptr) : json::value(v));
    rows.push_back(std::move(row));
  }
  return rows;
}

// The bar on stderr: redrawn in place on a terminal, a line per stage or 10 % otherwise.
class ProgressBar {
 public:
  void Show(const std::string& stage, double fraction) {
    const int percent = static_cast<int>(fraction * 100);
    if (tty_) {
      const int filled = percent / 5;
      std::fprintf(stderr, "\r[%s%s] %3d%% %-12s", std::string(filled, '#').c_str(),
                   std::string(20 - filled, '.').c_str(), percent, stage.c_str());
    } else if (stage != stage_ || percent / 10 != percent_ / 10) {
      std::fprintf(stderr, "train: %3d%% %s\n", percent, stage.c_str());
    }
    std::fflush(stderr);
    stage_ = stage;
    percent_ = percent;
  }
  void Done() {
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  const bool tty_ = isatty(STDERR_FILENO);
  std::string stage_;
  int percent_ = -1;
};

void PrintModel(const json::object& m) {
  const json::object& x = m.at("metrics").as_object();
  std::printf("  %-10s %s  %-10s", std::string(m.at("target").as_string()).c_str(),
              std::string(m.at("id").as_string()).c_str(),
              std::string(m.at("status").as_string()).c_str());
  if (m.at("objective") == "binary") {
    std::printf(" AUC-PR %.4f  ROC-AUC %.4f  F1 %.3f (P %.3f R %.3f at %.3f)",
                Number(x.at("auc_pr")), Number(x.at("roc_auc")), Number(x.at("f1")),
                Number(x.at("precision")), Number(x.at("recall")), Number(x.at("threshold")));
    if (const double lead = Number(x.at("median_lead_days")); !std::isnan(lead)) {
      std::printf("  lead %.1f d", lead);
    }
  } else {
    std::printf(" RMSE %.3f  MAE %.3f", Number(x.at("rmse")), Number(x.at("mae")));
  }
  std::printf("  (%lld rounds, %lld train / %lld validation rows)\n",
              static_cast<long long>(m.at("rounds").to_number<int64_t>()),
              static_cast<long long>(m.at("train_rows").to_number<int64_t>()),
              static_cast<long long>(m.at("validation_rows").to_number<int64_t>()));
}

}  // namespace

int Train(const TrainArgs& args) {
  auto session = Connect(args.api);
  if (!session.ok()) return Fail(session.status().ToString());
  ApiSession& api = *session->api;

  json::object body;
  Table table;
  std::vector<size_t> train_rows, holdout_rows;
  if (!args.csv.empty()) {
    if (args.label.empty() || args.name.empty()) {
      return Fail("--csv needs --label (the column to learn) and --name (the model's target)");
    }
    auto read = ReadCsv(args);
    if (!read.ok()) return Fail(read.status().ToString());
    table = std::move(read).value();
    // Stratified by label for binary models; seeded, so reruns hold out the same rows.
    std::mt19937_64 rng(args.seed);
    std::map<bool, std::vector<size_t>> groups;
    for (size_t r = 0; r < table.labels.size(); ++r) {
      groups[args.objective == "binary" && table.labels[r] > 0.5f].push_back(r);
    }
    for (auto& [positive, rows] : groups) {
      std::shuffle(rows.begin(), rows.end(), rng);
      const size_t k = static_cast<size_t>(std::llround(rows.size() * args.holdout));
      holdout_rows.insert(holdout_rows.end(), rows.begin(), rows.begin() + k);
      train_rows.insert(train_rows.end(), rows.begin() + k, rows.end());
    }
    std::sort(train_rows.begin(), train_rows.end());
    std::sort(holdout_rows.begin(), holdout_rows.end());
    json::array features, labels;
    for (const auto& f : table.features) features.push_back(json::value(f));
    for (size_t r : train_rows) labels.push_back(table.labels[r]);
    body = {{"target", args.name},
            {"objective", args.objective},
            {"features", std::move(features)},
            {"rows", Rows(table, train_rows)},
            {"labels", std::move(labels)},
            {"seed", args.seed}};
    std::fprintf(stderr, "train: %zu rows x %zu features from %s (%zu held out)\n",
                 train_rows.size(), table.features.size(), args.csv.c_str(), holdout_rows.size());
  } else {
    json::array targets;
    for (const auto& t : args.targets) targets.push_back(json::value(t));
    body["targets"] = std::move(targets);
    if (args.rul_cap_days) body["rul_cap_days"] = *args.rul_cap_days;
  }
  if (!args.params.empty()) {
    json::object params;
    for (const std::string& p : args.params) {
      const size_t eq = p.find('=');
      char* end = nullptr;
      const double v = eq == std::string::npos ? NAN : std::strtod(p.c_str() + eq + 1, &end);
      if (eq == std::string::npos || end == p.c_str() + eq + 1 || *end != '\0') {
        return Fail("--param " + p + ": expected name=number, such as eta=0.02");
      }
      params[p.substr(0, eq)] = v;
    }
    body["params"] = std::move(params);
  }
  auto started = CallJson(api, "POST", "/training-runs", storage::JsonText(body), 202);
  if (!started.ok()) return Fail(started.status().ToString());
  const std::string id(started->at("id").as_string());
  std::fprintf(stderr, "train: run %s queued\n", id.c_str());

  ProgressBar bar;
  json::object run;
  for (;;) {
    auto r = CallJson(api, "GET", "/training-runs/" + id, "", 200);
    if (!r.ok()) return Fail(r.status().ToString());
    run = r->as_object();
    const std::string status(run.at("status").as_string());
    bar.Show(std::string(run.at("stage").as_string()), Number(run.at("progress")));
    if (status != "queued" && status != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  bar.Done();
  for (const json::value& n : run.at("notes").as_array()) {
    std::printf("%s\n", std::string(n.as_string()).c_str());
  }
  if (run.at("status") != "succeeded") {
    return Fail("training run " + id + " failed: " +
                (run.contains("error") ? std::string(run.at("error").as_string()) : "?"));
  }
  std::printf("run %s: %s\n", id.c_str(), "succeeded");
  for (const json::value& m : run.at("models").as_array()) {
    auto model = CallJson(api, "GET", "/models/" + std::string(m.as_string()), "", 200);
    if (!model.ok()) return Fail(model.status().ToString());
    PrintModel(model->as_object());
  }
  if (!holdout_rows.empty()) {
    // The held-out rows, scored by the model just trained through /predict.
    const std::string model_id(run.at("models").as_array().at(0).as_string());
    json::array features;
    for (const auto& f : table.features) features.push_back(json::value(f));
    json::object request{{"model_id", model_id},
                         {"features", std::move(features)},
                         {"rows", Rows(table, holdout_rows)}};
    auto scored = CallJson(api, "POST", "/predict", storage::JsonText(request), 200);
    if (!scored.ok()) return Fail(scored.status().ToString());
    std::vector<float> values, labels;
    for (const json::value& p : scored->at("predictions").as_array()) {
      values.push_back(static_cast<float>(Number(p.at("value"))));
    }
    for (size_t r : holdout_rows) labels.push_back(table.labels[r]);
    if (args.objective == "binary") {
      const ml::Evaluation e = ml::EvaluateBinary(values, labels);
      std::printf("holdout: %zu rows, %zu positive: ROC-AUC %.4f  AUC-PR %.4f  F1 %.3f\n", e.rows,
                  e.positives, e.roc_auc, e.auc_pr, e.f1);
    } else {
      const ml::Evaluation e = ml::EvaluateRegression(values, labels);
      std::printf("holdout: %zu rows: RMSE %.4f  MAE %.4f\n", e.rows, e.rmse, e.mae);
    }
  }
  return 0;
}

int Predict(const PredictArgs& args) {
  if (args.format != "table" && args.format != "csv") return Fail("--format: table or csv");
  auto session = Connect(args.api);
  if (!session.ok()) return Fail(session.status().ToString());
  json::object body;
  if (!args.assets.empty()) {
    json::array ids;
    for (const auto& a : args.assets) ids.push_back(json::value(a));
    body["asset_ids"] = std::move(ids);
  }
  if (!args.as_of.empty()) body["as_of"] = args.as_of;
  auto r = CallJson(*session->api, "POST", "/predict", storage::JsonText(body), 200);
  if (!r.ok()) return Fail(r.status().ToString());
  const bool csv = args.format == "csv";
  std::printf(csv ? "asset_id,as_of,fails_7d,fails_30d,rul_days,health,risk,top_factor\n"
                  : "%-16s %-20s %8s %9s %8s %6s %-8s %s\n",
              "asset", "as of", "fails_7d", "fails_30d", "rul_days", "health", "risk",
              "top factor");
  for (const json::value& v : r->at("predictions").as_array()) {
    const json::object& p = v.as_object();
    const json::array& factors = p.at("factors").as_array();
    const std::string factor =
        factors.empty() ? "" : std::string(factors[0].at("feature").as_string());
    std::printf(csv ? "%s,%s,%.4f,%.4f,%.2f,%lld,%s,%s\n"
                    : "%-16s %-20.20s %8.3f %9.3f %8.1f %6lld %-8s %s\n",
                std::string(p.at("asset_id").as_string()).c_str(),
                std::string(p.at("as_of").as_string()).c_str(), Number(p.at("fails_7d")),
                Number(p.at("fails_30d")), Number(p.at("rul_days")),
                static_cast<long long>(p.at("health").to_number<int64_t>()),
                std::string(p.at("risk").as_string()).c_str(), factor.c_str());
  }
  return 0;
}

}  // namespace foresight::tools
