// API tokens, write and read, on real storage: made, checked, revoked, and kept across restarts.
#include "ingest/ingest.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

namespace foresight::ingest {
namespace {

class ApiTokensTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(std::string_view static_tokens = {}) {
    tokens_.reset();
    db_.reset();
    storage::Options options;
    options.fsync = storage::FsyncPolicy::kNever;
    db_ = storage::Storage::Open(dir_.Sub("db"), options).value();
    acme_ = db_->CreateTenant("acme").value();
    auto opened = ApiTokens::Open(db_.get(), static_tokens);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    tokens_ = std::move(*opened);
  }

  foresight::testing::TempDir dir_;
  std::unique_ptr<storage::Storage> db_;
  std::unique_ptr<ApiTokens> tokens_;
  storage::TenantId acme_ = 0;
};

TEST_F(ApiTokensTest, AMadeTokenNamesItsTenantUntilRevokedAcrossRestarts) {
  ApiTokens::NewToken made = tokens_->Create(acme_, "gateway-1").value();
  EXPECT_TRUE(made.secret.starts_with("fst_"));
  EXPECT_EQ(tokens_->Verify(made.secret).value(), acme_);
  Reopen();
  EXPECT_EQ(tokens_->Verify(made.secret).value(), acme_);
  std::optional<ApiTokens::Holder> holder = tokens_->Find(made.secret);
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->tenant_name, "acme");
  EXPECT_EQ(holder->id, made.token.id);

  ASSERT_TRUE(tokens_->Revoke(acme_, made.token.id).ok());
  EXPECT_FALSE(tokens_->Verify(made.secret).ok());
  Reopen();
  EXPECT_FALSE(tokens_->Verify(made.secret).ok());
  std::vector<ApiTokens::Token> listed = tokens_->List(acme_);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "gateway-1");
  EXPECT_NE(listed[0].revoked_ns, 0);
}

TEST_F(ApiTokensTest, AReadTokenIsFoundAsOneButMayNotWriteAcrossRestarts) {
  ApiTokens::NewToken made = tokens_->Create(acme_, "grafana", ApiTokens::Scope::kRead).value();
  EXPECT_EQ(made.token.scope, ApiTokens::Scope::kRead);
  for (int restart = 0; restart < 2; ++restart) {
    Result<storage::TenantId> verified = tokens_->Verify(made.secret);
    EXPECT_EQ(verified.status().code(), Status::Code::kFailedPrecondition);
    EXPECT_EQ(verified.status().message(), "a read token may not write: use a write token");
    std::optional<ApiTokens::Holder> holder = tokens_->Find(made.secret);
    ASSERT_TRUE(holder);
    EXPECT_EQ(holder->scope, ApiTokens::Scope::kRead);
    ASSERT_EQ(tokens_->List(acme_).size(), 1u);
    EXPECT_EQ(tokens_->List(acme_)[0].scope, ApiTokens::Scope::kRead);
    Reopen();
  }
  ASSERT_TRUE(tokens_->Revoke(acme_, made.token.id).ok());
  EXPECT_FALSE(tokens_->Find(made.secret));
}

TEST_F(ApiTokensTest, ARecordWithoutAScopeIsAWriteToken) {
  // Write tokens are stored as they were before read tokens existed, so old records still mean
  // write tokens.
  ApiTokens::NewToken made = tokens_->Create(acme_, "old-gateway").value();
  std::string record = db_->GetRecord(acme_, "api_token", made.token.id).value();
  EXPECT_EQ(record.find("scope"), std::string::npos) << record;
  Reopen();
  EXPECT_EQ(tokens_->Verify(made.secret).value(), acme_);
  EXPECT_EQ(tokens_->List(acme_)[0].scope, ApiTokens::Scope::kWrite);
}

TEST_F(ApiTokensTest, KeepsOnlyADigestOfTheToken) {
  ApiTokens::NewToken made = tokens_->Create(acme_, "gateway-1").value();
  auto records = db_->ScanRecords(acme_, "api_token", {}).value();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].second.find(made.secret), std::string::npos);
  EXPECT_EQ(records[0].second.find(made.secret.substr(4)), std::string::npos);
}

TEST_F(ApiTokensTest, StaticTokensCreateTheirTenantsAndAreCheckedWhenOpened) {
  Reopen("acme:static-token-0123456789,beta:static-token-for-beta-01");
  EXPECT_EQ(tokens_->Verify("static-token-0123456789").value(), acme_);
  EXPECT_EQ(tokens_->Verify("static-token-for-beta-01").value(), db_->FindTenant("beta").value());
  EXPECT_TRUE(tokens_->Find("static-token-0123456789")->id.empty());
  for (std::string_view bad :
       {"acme:short", "no-colon-0123456789", "a:same-token-0123456789,b:same-token-0123456789",
        "acme:has space 0123456789"}) {
    EXPECT_EQ(ApiTokens::Open(db_.get(), bad).status().code(), Status::Code::kInvalidArgument)
        << bad;
  }
}

TEST_F(ApiTokensTest, RefusesBadNamesUnknownIdsAndUnknownTokens) {
  EXPECT_EQ(tokens_->Create(acme_, "").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(tokens_->Create(acme_, std::string(129, 'x')).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(tokens_->Revoke(acme_, "nope").code(), Status::Code::kNotFound);
  EXPECT_EQ(tokens_->Verify("fst_not-a-token").status().code(), Status::Code::kInvalidArgument);
}

TEST_F(ApiTokensTest, ADamagedTokenRecordFailsTheOpenInsteadOfDroppingTheToken) {
  const storage::Storage::RecordWrite damaged{"api_token", "t1", std::string_view("{\"name\":")};
  ASSERT_TRUE(db_->WriteRecords(acme_, {&damaged, 1}).ok());
  EXPECT_EQ(ApiTokens::Open(db_.get(), {}).status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace foresight::ingest
