#!/usr/bin/env bash
# Ingest throughput against the peers, on this machine, in one run: FORESIGHT, InfluxDB 1.6 and
# VictoriaMetrics 1.79 (Debian's packages) each get the same generated IoT workload (1,000 assets
# x 8 float metrics, tags asset_id/asset_type/site, 10 s interval) from `foresight loadgen`, over
# HTTP (/write, acknowledged) and, where the server has it, raw TCP line protocol. Each run
# starts a fresh server on an empty data directory. Reported: rows/s, field values/s, bytes on
# disk per value (after a clean shutdown), the server's peak RSS (VmHWM) and CPU seconds.
#
#   bench/compare_ingest.sh [steps=1000] [repeats=3] [build dir=build]
#
# TARGETS="foresight/tcp victoria-metrics/tcp" runs only those. BASELINE=<build dir> adds, next
# to each FORESIGHT target, the same run of that build's binary as "baseline" (A/B of a change
# in one run).
#
# FORESIGHT runs with fsync=always (its default). InfluxDB 1.6 fsyncs its WAL on every write
# (wal-fsync-delay 0). VictoriaMetrics acknowledges HTTP writes once buffered in memory.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-1000}
repeats=${2:-3}
build=${3:-build}
token=bench-token-0123456789

source bench/lib.sh
need_commands victoria-metrics influxd=influxdb curl
need_release_build "$build"
load=("$build/tools/foresight" loadgen --json)

make_work_dir

start_server() {  # name dir
  local name=$1 dir=$2
  case $name in
    foresight|baseline)
      local binary=$build/tools/foresight
      [[ $name == baseline ]] && binary=$BASELINE/tools/foresight
      FORESIGHT_RETENTION_RAW=forever "$binary" serve --data-dir "$dir" --listen 127.0.0.1:18080 \
        --tcp-listen 127.0.0.1:18094 --tokens "bench:$token" --log-level warn >"$work/$name.log" 2>&1 &
      pid=$!; wait_http http://127.0.0.1:18080/ready ;;
    *) start_peer "$name" "$dir" ;;
  esac
}

rows=()
run() {  # name transport
  local name=$1 transport=$2 dir=$work/data-$1-$2
  rm -rf "$dir"
  start_server "$name" "$dir"
  local args=(--steps "$steps" --batch 5000 --connections 4)
  case $name/$transport in
    foresight/http|baseline/http) args+=(--mode http --url 127.0.0.1:18080 --path '/write?db=bench' --token "$token") ;;
    foresight/tcp|baseline/tcp) args+=(--mode tcp --tcp 127.0.0.1:18094 --token "$token" --url 127.0.0.1:18080
                          --wait-metric foresight_ingest_values_total) ;;
    victoria-metrics/http) args+=(--mode http --url 127.0.0.1:18428 --path '/write?db=bench') ;;
    victoria-metrics/tcp) args+=(--mode tcp --tcp 127.0.0.1:18089 --url 127.0.0.1:18428
                                 --wait-metric 'vm_rows_inserted_total') ;;
    influxdb/http) args+=(--mode http --url 127.0.0.1:18086 --path '/write?db=bench') ;;
  esac
  local before after result
  before=$(cpu_ticks "$pid")
  result=$("${load[@]}" "${args[@]}" 2>/dev/null)
  after=$(cpu_ticks "$pid")
  local hwm
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=
  local bytes
  bytes=$(du -sb "$dir" | cut -f1)
  local values vps lps
  values=$(sed 's/.*"values":\([0-9]*\).*/\1/' <<<"$result")
  vps=$(sed 's/.*"values_per_s":\([0-9]*\).*/\1/' <<<"$result")
  lps=$(sed 's/.*"lines_per_s":\([0-9]*\).*/\1/' <<<"$result")
  local cpu
  cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz}')
  echo "$name $transport $lps $vps $(awk -v b="$bytes" -v v="$values" 'BEGIN {printf "%.2f", b / v}') $((hwm / 1024)) $cpu" >>"$work/rows"
  echo "  $name/$transport: $result (peak RSS $((hwm / 1024)) MB, cpu ${cpu}s)" >&2
}

for r in $(seq "$repeats"); do
  echo "round $r of $repeats" >&2
  for target in ${TARGETS:-foresight/http foresight/tcp victoria-metrics/http victoria-metrics/tcp influxdb/http}; do
    [[ -n ${BASELINE:-} && $target == foresight/* ]] && run baseline "${target#*/}"
    run "${target%/*}" "${target#*/}"
  done
done

echo
echo "Medians of $repeats runs; $steps steps x 1000 assets x 8 values = $((steps * 8000)) values per run."
echo "Kernel $(uname -r), $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)."
echo
echo "| server | transport | rows/s | field values/s | bytes on disk / value | peak RSS MB | server CPU s |"
echo "|---|---|---|---|---|---|---|"
sort -k1,1 -k2,2 "$work/rows" | awk '
  function median(list, n,   a, i, j, t) { n = split(list, a, ","); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((n + 1) / 2)] }
  { key = $1 " | " $2; if (!(key in seen)) { order[++k] = key; seen[key] = 1 }
    for (c = 3; c <= 7; c++) col[key, c] = col[key, c] (col[key, c] == "" ? "" : ",") $c }
  END { for (i = 1; i <= k; i++) { key = order[i]; printf "| %s |", key
        for (c = 3; c <= 7; c++) printf " %s |", median(col[key, c]); printf "\n" } }'
