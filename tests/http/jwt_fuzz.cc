// libFuzzer target for credentials: JWT parsing and verification, and the write-token lookup in
// front of it (Auth::Authenticate). An input whose first byte is odd is taken as a JWT header
// and claims, one per line, and signed with the server's key, so the fuzzer reaches the claims
// behind a valid signature; otherwise the rest of the input is the credential as sent. Besides
// "never crashes": what is accepted names a live tenant, and a JWT an expiry in the future.
#include "http/http.h"
#include "tests/fuzz_target.h"
#include "tests/http/forge.h"

namespace {

using foresight::http::Auth;

void Check(bool ok, const char* what) { foresight::testing::FuzzCheck(ok, "jwt_fuzz", what); }

constexpr char kKey[] = "fuzz-signing-key-0123456789abcdef";
constexpr int64_t kNowS = 1'767'225'600;

std::string Sign(std::string_view header, std::string_view claims) {
  return foresight::testing::ForgeJwt(header, claims, kKey);
}

struct Target {
  std::unique_ptr<foresight::storage::Storage> storage;
  std::unique_ptr<Auth> auth;

  Target() {
    foresight::storage::Options options;
    options.fsync = foresight::storage::FsyncPolicy::kNever;
    storage = foresight::storage::Storage::Open(foresight::testing::FuzzDataDir() + "/jwt", options)
                  .value();
    foresight::storage::TenantId acme = storage->CreateTenant("acme").value();
    foresight::http::AuthOptions auth_options;
    auth_options.jwt_secret = kKey;
    auth = Auth::Open(storage.get(), auth_options).value();
    Check(auth->CreateClient(acme, "fuzz-admin", foresight::http::Role::kAdmin).ok(), "client");
    Check(auth->tokens().Create(acme, "gateway").ok(), "token");
  }
};

}  // namespace

FORESIGHT_FUZZ_TARGET(FuzzCredentials) {
  Target& t = foresight::testing::FuzzState<Target>();
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string credential(rest);
  if (data[0] & 1) {
    size_t nl = rest.find('\n');
    credential = Sign(rest.substr(0, nl), nl == std::string_view::npos ? "" : rest.substr(nl + 1));
  }
  auto principal = t.auth->Authenticate(credential, kNowS);
  if (!principal.ok()) {
    Check(!principal.status().message().empty(), "a refusal without a reason");
    return 0;
  }
  auto tenant = t.storage->FindTenant(principal->tenant_name);
  Check(tenant.ok() && *tenant == principal->tenant, "a principal of another or no tenant");
  if (principal->role != foresight::http::Role::kWriter) {
    Check(principal->expires_s > kNowS, "an expired JWT accepted");
  }
  return 0;
}

#ifndef FORESIGHT_LIBFUZZER
TEST(FuzzCorpus, CredentialsKeepTheirInvariants) {
  foresight::testing::ReplayCorpus("tests/http/corpus/jwt", FuzzCredentials, 8);
}
#endif
