#!/usr/bin/env bash
# Sets up, builds and runs every FORESIGHT test: README command (2) and CI's entry point.
#   tools/test.sh            Release build in build/ (what tools/run.sh runs, bench/ measures and
#                            the .deb packages), every test, the browser suite, clang-format check
#   tools/test.sh clang      clang build in build-clang/: ASan+UBSan, -Wthread-safety as errors,
#                            the libFuzzer targets (each fuzzed for a bounded time as a test)
#   tools/test.sh asan       GCC ASan+UBSan build in build-asan/
#   tools/test.sh tsan       TSan build in build-tsan/
# Further arguments go to ctest, e.g. `tools/test.sh tsan -R Storage`.
set -euo pipefail
cd "$(dirname "$0")/.."

flavour=${1:-default}
shift || true
# The sanitizer builds keep debug information for their reports.
build_type=RelWithDebInfo
case "$flavour" in
  default) dir=build; build_type=Release; flags=() ;;
  clang) dir=build-clang; flags=(-DCMAKE_CXX_COMPILER=clang++ -DFORESIGHT_FUZZ=ON -DFORESIGHT_BUILD_BENCH=OFF) ;;
  asan) dir=build-asan; flags=(-DFORESIGHT_ASAN=ON -DFORESIGHT_BUILD_BENCH=OFF) ;;
  tsan) dir=build-tsan; flags=(-DFORESIGHT_TSAN=ON -DFORESIGHT_BUILD_BENCH=OFF)
        export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp second_deadlock_stack=1 ${TSAN_OPTIONS:-}" ;;
  *) echo "usage: tools/test.sh [default|clang|asan|tsan] [ctest arguments]" >&2; exit 2 ;;
esac

tools/install-deps.sh
# The third-party tools the end-to-end tests drive: Node.js for the clients and validators in
# tests/js (package-lock.json pins them), promtool (Debian's prometheus) for /metrics, openssl
# for the HTTPS webhook receiver's certificate.
test_packages=()
command -v npm >/dev/null || test_packages+=(nodejs npm)
command -v promtool >/dev/null || test_packages+=(prometheus)
command -v openssl >/dev/null || test_packages+=(openssl)
# Clients of /query nobody here wrote: Debian's influx CLI and python3-influxdb.
command -v influx >/dev/null || test_packages+=(influxdb-client)
/usr/bin/python3 -c 'import influxdb' 2>/dev/null || test_packages+=(python3-influxdb)
# The container seccomp profile is loaded with libseccomp's Python binding (tests/tools).
/usr/bin/python3 -c 'import seccomp' 2>/dev/null || test_packages+=(python3-seccomp)
# The dashboard's browser suite drives Debian's Chromium (tests/browser/dashboard.mjs).
[[ $flavour == default && ! -x /usr/bin/chromium ]] && test_packages+=(chromium)
if ((${#test_packages[@]})); then
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${test_packages[@]}" >/dev/null
fi
for npm_dir in tests/js http/web; do
  if [[ ! -d $npm_dir/node_modules || $npm_dir/package-lock.json -nt $npm_dir/node_modules ]]; then
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/foresight-ccache}
[[ $flavour == default ]] && flags+=(-DFORESIGHT_BROWSER_TESTS=ON)
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "${flags[@]}" >/dev/null
cmake --build "$dir" -j2
if [[ $flavour == default ]]; then
  cmake --build "$dir" --target check_format
  # The committed dashboard build is what its sources build to, byte for byte.
  rm -rf "$dir/web-check"
  node http/web/build.mjs "$dir/web-check" >/dev/null
  if ! diff -r http/web/dist "$dir/web-check"; then
    echo "http/web/dist differs from a build of http/web/src: run (cd http/web && npm run build) and commit dist/" >&2
    exit 1
  fi
fi
ctest --test-dir "$dir" -j2 --output-on-failure --timeout 600 "$@"
