// Prometheus remote write end to end: requests encoded with protobuf's and snappy's own
// libraries, and Debian's prometheus server remote-writing what it scrapes; what arrives reads
// back through both query APIs.
#include "query/query.h"
#include "tests/http/appliance.h"
#include "tests/http_request.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <signal.h>
#include <snappy.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

extern char** environ;

namespace foresight::http {
namespace {

namespace bhttp = boost::beast::http;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;
using testing::Reply;

struct Sample {
  double value;
  int64_t ms;
};
struct TimeSeries {
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<Sample> samples;
};

// A WriteRequest as Prometheus encodes one (prompb/remote.proto, types.proto).
std::string Encode(const std::vector<TimeSeries>& series) {
  auto message = [](int field, const std::string& body, CodedOutputStream* out) {
    out->WriteTag((field << 3) | 2);
    out->WriteVarint32(static_cast<uint32_t>(body.size()));
    out->WriteString(body);
  };
  std::string request;
  {
    StringOutputStream stream(&request);
    CodedOutputStream out(&stream);
    for (const TimeSeries& ts : series) {
      std::string body;
      {
        StringOutputStream s(&body);
        CodedOutputStream o(&s);
        for (const auto& [name, value] : ts.labels) {
          std::string label;
          {
            StringOutputStream ls(&label);
            CodedOutputStream lo(&ls);
            message(1, name, &lo);
            message(2, value, &lo);
          }
          message(1, label, &o);
        }
        for (const Sample& sample : ts.samples) {
          std::string encoded;
          {
            StringOutputStream ss(&encoded);
            CodedOutputStream so(&ss);
            uint64_t bits;
            std::memcpy(&bits, &sample.value, sizeof bits);
            so.WriteTag((1 << 3) | 1);
            so.WriteLittleEndian64(bits);
            so.WriteTag((2 << 3) | 0);
            so.WriteVarint64(static_cast<uint64_t>(sample.ms));
          }
          message(2, encoded, &o);
        }
      }
      message(1, body, &out);
    }
  }
  std::string compressed;
  snappy::Compress(request.data(), request.size(), &compressed);
  return compressed;
}

class RemoteWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    foresight::testing::ApplianceOptions options;
    options.auth.jwt_secret = "remote-write-test-signing-key-0123456789";
    options.server.rate_limit_per_s = 0;
    appliance_ = std::make_unique<foresight::testing::Appliance>(dir_.Sub("db"), options);
    acme_ = appliance_->storage->CreateTenant("acme").value();
    writer_ = appliance_->auth->tokens().Create(acme_, "prometheus").value().secret;
  }

  Reply Post(const std::string& body, const std::string& authorization,
             const std::string& encoding = "snappy") {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/api/v1/write", 11};
    if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
    req.set(bhttp::field::content_type, "application/x-protobuf");
    if (!encoding.empty()) req.set(bhttp::field::content_encoding, encoding);
    req.set("X-Prometheus-Remote-Write-Version", "0.1.0");
    req.body() = body;
    return testing::Send(appliance_->port(), std::move(req));
  }
  // The value of `expr` now through PromQL, NaN when it selects nothing.
  double PromValue(const std::string& expr, int64_t at_ns) {
    auto r = query::PromInstantQuery(*appliance_->storage, acme_, expr, at_ns, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && !r->series.empty() ? r->series[0].samples.at(0).value : NAN;
  }

  foresight::testing::TempDir dir_;
  std::unique_ptr<foresight::testing::Appliance> appliance_;
  storage::TenantId acme_ = 0;
  std::string writer_;
};

TEST_F(RemoteWrite, StoresEachSeriesAsItsMetricAndReadsBackThroughBothQueryApis) {
  const int64_t ms = 1'780'272'000'000;
  Reply ok = Post(Encode({{{{"__name__", "node_load1"}, {"instance", "a:9100"}, {"job", "node"}},
                           {{0.5, ms}, {0.75, ms + 15'000}}},
                          {{{"job", "node"}, {"__name__", "up"}}, {{1, ms}}}}),
                  "Bearer " + writer_);
  ASSERT_EQ(ok.status, 204u) << ok.text;
  EXPECT_EQ(PromValue("node_load1{job=\"node\",instance=\"a:9100\"}", (ms + 15'000) * 1'000'000),
            0.75);
  EXPECT_EQ(PromValue("up", ms * 1'000'000), 1) << "labels in any order name one series";
  query::InfluxQlOptions options;
  options.now_ns = (ms + 60'000) * 1'000'000;
  auto influx =
      query::RunInfluxQl(*appliance_->storage, acme_,
                         "SELECT last(value) FROM node_load1 WHERE job = 'node'", options);
  ASSERT_TRUE(influx.ok());
  ASSERT_EQ(influx->at(0).series.size(), 1u);
  EXPECT_EQ(std::get<double>(influx->at(0).series[0].values.at(0).at(1)), 0.75);

  // Sent again (Prometheus retries): the same points, nothing doubled.
  ASSERT_EQ(Post(Encode({{{{"__name__", "up"}, {"job", "node"}}, {{1, ms}}}}), "Bearer " + writer_)
                .status,
            204u);
  EXPECT_EQ(PromValue("count_over_time(up[1h])", (ms + 1000) * 1'000'000), 1);
}

TEST_F(RemoteWrite, RefusesBadSeriesByIndexAndBadBodiesWhole) {
  const int64_t ms = 1'780'272'000'000;
  Reply partial = Post(Encode({{{{"job", "x"}}, {{1, ms}}},
                               {{{"__name__", "good"}}, {{2, ms}}},
                               {{{"__name__", "dup"}, {"a", "1"}, {"a", "2"}}, {{3, ms}}},
                               {{{"__name__", "bad"}, {"a", std::string("\x01", 1)}}, {{4, ms}}}}),
                       "Bearer " + writer_);
  EXPECT_EQ(partial.status, 400u);
  EXPECT_EQ(partial.body.at("error"),
            "partial write: series 1: a series without a __name__ label dropped=3");
  EXPECT_EQ(partial.body.at("rejected").as_array().size(), 3u);
  EXPECT_EQ(partial.body.at("rejected").at(1).at("reason"), "duplicate label 'a'");
  EXPECT_EQ(PromValue("good", ms * 1'000'000), 2) << "the good series is stored";

  EXPECT_EQ(Post("not snappy at all", "Bearer " + writer_).status, 400u);
  std::string garbage;
  snappy::Compress("\xff\xff\xff\xff", 4, &garbage);
  Reply notproto = Post(garbage, "Bearer " + writer_);
  EXPECT_EQ(notproto.status, 400u);
  EXPECT_EQ(notproto.body.at("error"), "the body is not a protobuf WriteRequest");
  std::string truncated = Encode({{{{"__name__", "t"}}, {{1, ms}}}});
  std::string raw;
  snappy::Uncompress(truncated.data(), truncated.size(), &raw);
  raw.resize(raw.size() - 3);
  snappy::Compress(raw.data(), raw.size(), &truncated);
  EXPECT_EQ(Post(truncated, "Bearer " + writer_).status, 400u);
  EXPECT_EQ(Post(Encode({}), "Bearer " + writer_, "gzip").status, 415u);
  EXPECT_EQ(Post(Encode({}), "").status, 401u);
  EXPECT_EQ(Post(Encode({}), "Bearer not-a-token").status, 401u);
  EXPECT_EQ(Post(Encode({}), "Bearer " + writer_).status, 204u) << "an empty request is fine";
}

// Found by remote_write_fuzz (corpus: finding_empty_asset_label): an empty asset_id label
// failed the whole request as an empty asset id.
TEST_F(RemoteWrite, TreatsALabelWithAnEmptyValueAsAbsentAsPrometheusDoes) {
  const int64_t ms = 1'780'272'000'000;
  Reply r =
      Post(Encode({{{{"__name__", "temp"}, {"asset_id", ""}, {"site", "north"}}, {{21.5, ms}}},
                   {{{"__name__", "temp"}, {"asset_id", std::string(300, 'a')}}, {{1, ms}}}}),
           "Bearer " + writer_);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.body.at("rejected").at(0).at("series"), 2) << r.text;
  auto series = appliance_->storage->ListSeries(acme_);
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].key.tags,
            (std::vector<std::pair<std::string, std::string>>{{"site", "north"}}));
}

// Debian's prometheus scrapes the appliance's /metrics and remote-writes every sample to it,
// for as long as it takes the first batch to arrive (bounded).
TEST_F(RemoteWrite, TheRealPrometheusServerRemoteWritesWhatItScrapes) {
  ASSERT_EQ(access("/usr/bin/prometheus", X_OK), 0)
      << "Debian's prometheus (tools/test.sh installs it)";
  const std::string target = "127.0.0.1:" + std::to_string(appliance_->port());
  const std::string config = dir_.Sub("prometheus.yml");
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n"
                           "scrape_configs:\n  - job_name: foresight\n"
                           "    static_configs:\n      - targets: ['"
                        << target
                        << "']\n"
                           "remote_write:\n  - url: http://"
                        << target
                        << "/api/v1/write\n"
                           "    authorization:\n      credentials: "
                        << writer_
                        << "\n"
                           "    queue_config:\n      batch_send_deadline: 1s\n";
  const std::string tsdb = "--storage.tsdb.path=" + dir_.Sub("tsdb");
  const std::string config_flag = "--config.file=" + config;
  const char* argv[] = {"/usr/bin/prometheus", config_flag.c_str(),
                        tsdb.c_str(),          "--web.listen-address=127.0.0.1:0",
                        "--log.level=warn",    nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, const_cast<char**>(argv), environ), 0);

  // Waits for the scraped `up` sample to arrive: the condition, not a fixed time.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  double up = NAN;
  while (std::chrono::steady_clock::now() < deadline) {
    const int64_t now = appliance_->storage->clock().NowNs();
    up = PromValue("up{job=\"foresight\",instance=\"" + target + "\"}", now);
    if (!std::isnan(up) && !std::isnan(PromValue("foresight_ingest_values_total", now))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(up, 1) << "prometheus scraped the appliance and remote-wrote the result";

  // What it sent reads back by its own names, through PromQL and InfluxQL alike.
  bhttp::request<bhttp::string_body> req{
      bhttp::verb::get, "/query?q=SHOW%20MEASUREMENTS%20WITH%20MEASUREMENT%20%3D%20up", 11};
  auto viewer = appliance_->auth->CreateClient(acme_, "", Role::kViewer).value();
  req.set(
      bhttp::field::authorization,
      "Bearer " + appliance_->auth->IssueToken(viewer.client.id, viewer.secret, std::time(nullptr))
                      .value()
                      .jwt);
  Reply shown = testing::Send(appliance_->port(), std::move(req));
  EXPECT_NE(shown.text.find("[\"up\"]"), std::string::npos) << shown.text;
}

}  // namespace
}  // namespace foresight::http
