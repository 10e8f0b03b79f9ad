// JWTs with any header and claims, HS256-signed with any key: what a client, honest or not, can
// send. For the credential tests and the JWT fuzz target (gtest-free).
#pragma once

#include <sodium.h>

#include <cstring>
#include <string>
#include <string_view>

namespace foresight::testing {

// Base64 in one of libsodium's variants: URL-safe without padding (JWTs) or the original
// alphabet (HTTP Basic credentials).
inline std::string Base64(std::string_view bytes, int variant = sodium_base64_VARIANT_ORIGINAL) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(std::strlen(out.c_str()));
  return out;
}
inline std::string Base64Url(std::string_view bytes) {
  return Base64(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

// header.claims.signature with HMAC-SHA256 under `key`, whatever `alg` the header names.
inline std::string ForgeJwt(std::string_view header, std::string_view claims,
                            std::string_view key) {
  std::string input = Base64Url(header) + "." + Base64Url(claims);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size());
  crypto_auth_hmacsha256_final(&st, mac);
  return input + "." + Base64Url(std::string_view(reinterpret_cast<char*>(mac), sizeof mac));
}

}  // namespace foresight::testing
