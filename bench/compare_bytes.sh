#!/usr/bin/env bash
# Bytes on disk per stored value: FORESIGHT's storage engine against VictoriaMetrics (Debian's
# victoria-metrics package), on the same IoT workload (a), on this machine, in one run.
#
#   bench/compare_bytes.sh [days=1] [build dir=build-release]
#
# Both get the identical readings: storage_bench generates them once as line protocol for
# VictoriaMetrics and again (same seed, same rounding) through the storage API for FORESIGHT.
# VictoriaMetrics is flushed and force-merged before its data directory is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
days=${1:-1}
build=${2:-build-release}

if ! command -v victoria-metrics >/dev/null; then
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y -qq victoria-metrics curl >/dev/null
fi
if [[ ! -x $build/bench/storage_bench ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFORESIGHT_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j2 --target storage_bench
fi

work=$(mktemp -d)
vm_pid=
cleanup() { [[ -n $vm_pid ]] && kill "$vm_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$build/bench/storage_bench" --workload=iot_lines --days="$days" > "$work/iot.lp"
lines=$(wc -l < "$work/iot.lp")
values=$((lines * 8))

port=18428
victoria-metrics -storageDataPath="$work/vm" -httpListenAddr="127.0.0.1:$port" \
  -retentionPeriod=100y -loggerLevel=ERROR >"$work/vm.log" 2>&1 &
vm_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
split -l 50000 "$work/iot.lp" "$work/chunk."
for f in "$work"/chunk.*; do
  curl -sf --data-binary @"$f" "http://127.0.0.1:$port/write" || { echo "VM write failed" >&2; exit 1; }
done
curl -sf "http://127.0.0.1:$port/internal/force_flush" >/dev/null
stored=$(curl -sf "http://127.0.0.1:$port/api/v1/query" --data-urlencode \
  'query=count(count_over_time({__name__=~"machine_.*"}[100y]))' | grep -o '"[0-9]*"\]' | tr -dc 0-9)
curl -sf "http://127.0.0.1:$port/internal/force_merge?partition_prefix=2026_01" >/dev/null
# Merges run in the background: wait until the data directory stops changing.
prev=-1
for _ in $(seq 120); do
  size=$(du -sb "$work/vm" | cut -f1)
  [[ $size == "$prev" ]] && break
  prev=$size; sleep 2
done
vm_data=$(du -sb "$work/vm/data" | cut -f1)
vm_index=$(du -sb "$work/vm/indexdb" | cut -f1)
kill "$vm_pid"; wait "$vm_pid" 2>/dev/null || true; vm_pid=

echo "workload (a): $lines lines, $values values ($days day(s), 1000 assets x 8 metrics, 10 s)"
echo "victoria-metrics $(victoria-metrics -version 2>&1 | head -1): series seen ${stored:-?}"
awk -v d="$vm_data" -v i="$vm_index" -v n="$values" \
  'BEGIN { printf "  data %.3f B/value, data+index %.3f B/value\n", d/n, (d+i)/n }'
echo "foresight:"
"$build/bench/storage_bench" --workload=iot_bytes --days="$days"
