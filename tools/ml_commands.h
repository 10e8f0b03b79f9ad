// `foresight train` and `foresight predict`: the model endpoints from the command line, through
// the REST API of a running server like any client. Private to tools/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace foresight::tools {

struct ModelClientArgs {
  std::string url = "http://127.0.0.1:8080";
  std::string tenant;
  std::string client_id;
  std::string client_secret;
};

struct TrainArgs {
  ModelClientArgs api;
  std::vector<std::string> targets;  // fleet targets; empty for all
  std::optional<double> rul_cap_days;
  // Hyper-parameters ("eta=0.02"), passed as the request's `params`; the server checks them.
  std::vector<std::string> params;
  // Given features: a CSV with a header row. Columns other than the label and `drop` are
  // features; text columns become ordinal codes (distinct values in sorted order).
  std::string csv;
  std::string label;
  std::vector<std::string> drop;
  std::string name;  // the model's target name
  std::string objective = "binary";
  // The share of rows held out (stratified for binary) and scored through /predict after
  // training, for an honest figure; 0 trains on every row.
  double holdout = 0.2;
  uint64_t seed = 42;
};

// Starts a training run, draws its progress on stderr until it ends, prints each model's
// metrics (and with a CSV, the held-out rows' figures). 0 when the run succeeded.
int Train(const TrainArgs& args);

struct PredictArgs {
  ModelClientArgs api;
  std::vector<std::string> assets;  // empty for the whole fleet
  std::string as_of;
  std::string format = "table";  // or csv
};
int Predict(const PredictArgs& args);

}  // namespace foresight::tools
