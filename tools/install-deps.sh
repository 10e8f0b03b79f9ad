#!/usr/bin/env bash
# Installs every build and test dependency of FORESIGHT from Debian 12's packages.
# Idempotent and non-interactive: packages already present are skipped, so a second run
# costs one dpkg query. Used by both README commands and by CI.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-format clang libclang-rt-14-dev
  librocksdb-dev libzstd-dev liburing-dev libsimdjson-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libxgboost-dev libeigen3-dev
  libspdlog-dev libfmt-dev libsodium-dev libssl-dev
  libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev libre2-dev libsnappy-dev libprotobuf-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
