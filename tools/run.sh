#!/usr/bin/env bash
# Sets up, builds and runs the appliance with the demo (two tenants, live simulated fleets) on
# ./data: README command (1).
# Extra arguments go to `foresight serve` (see `build/tools/foresight serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/foresight-ccache}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target foresight
exec build/tools/foresight serve --demo --data-dir ./data "$@"
