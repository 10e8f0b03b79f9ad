#!/usr/bin/env bash
# Fleet queries against the peers, on this machine, in one run: FORESIGHT, InfluxDB 1.6 and
# VictoriaMetrics 1.79 (Debian's packages) each get the same 24 hours of the IoT workload
# (1,000 assets x 8 float metrics, 10 s apart: 69 M values) from `foresight loadgen`, then answer
# four questions through their own query APIs, one server at a time on an otherwise idle machine:
#
#   last1   the last value of one asset (all 8 metrics)
#   lastN   the last value of one metric for all 1,000 assets
#   day     24 h of one series, mean per minute (1,440 buckets)
#   fleet   1 h of the whole fleet, mean per minute grouped by asset type (4 x 60 buckets)
#
# APIs: InfluxQL on /query (InfluxDB, FORESIGHT), PromQL on /api/v1/query[_range]
# (VictoriaMetrics, FORESIGHT), and FORESIGHT's own REST routes where one answers the question.
# Each question is asked `queries` times with a different asset, metric or hour each time (so no
# result cache answers a repeat), from one curl process on one keep-alive connection; reported
# are the median and the 90th percentile of curl's time_total, and the server's CPU seconds over
# all of a system's queries. Every answer must be 200 with the expected number of series.
#
#   bench/compare_query.sh [queries=40] [build dir=build]
#
# TARGETS="foresight victoria-metrics" runs only those. KEEP_WORK=1 keeps the data directories.
# FORESIGHT runs with its defaults (fsync always, the live engine on) and --rate-limit 0, so the
# per-tenant read limit does not throttle the loop; the queries use a read token.
set -euo pipefail
cd "$(dirname "$0")/.."
queries=${1:-40}
build=${2:-build}
token=bench-token-0123456789
steps=${STEPS:-8640}       # 24 h at 10 s
start_s=1700000000         # tools/loadgen.cc kStartNs
now_s=$((start_s + steps * 10))  # "now" for the last-value questions: 10 s after the last point
end_s=$((now_s / 60 * 60))      # the end of the ranges, on a minute
metrics=(temperature vibration_rms pressure motor_current rpm power_kw flow_rate bearing_temp)

source bench/lib.sh
need_commands victoria-metrics influxd=influxdb curl python3
need_release_build "$build"

make_work_dir

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
asset() { printf 'a%05d' $((($1 * 37) % 1000)); }
metric() { echo "${metrics[$((($1 + $1 / 24) % 8))]}"; }
hour() { echo $((end_s - 3600 * (1 + $1 % 24))); }

start_server() {  # name dir
  local name=$1 dir=$2
  case $name in
    foresight)
      "$build/tools/foresight" client create --tenant bench --role admin --data-dir "$dir" >"$work/client"
      FORESIGHT_RETENTION_RAW=forever "$build/tools/foresight" serve --data-dir "$dir" \
        --listen 127.0.0.1:18080 --rate-limit 0 \
        --tokens "bench:$token" --log-level warn >"$work/$name.log" 2>&1 &
      pid=$!; wait_http http://127.0.0.1:18080/ready
      local id secret jwt
      id=$(awk '/client_id:/ {print $2}' "$work/client")
      secret=$(awk '/client_secret:/ {print $2}' "$work/client")
      jwt=$(curl -sf -XPOST http://127.0.0.1:18080/auth/token -H 'Content-Type: application/json' \
        -d "{\"client_id\":\"$id\",\"client_secret\":\"$secret\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
      read_token=$(curl -sf -XPOST http://127.0.0.1:18080/api/v1/tenants/bench/tokens \
        -H "Authorization: Bearer $jwt" -d '{"name":"bench","scope":"read"}' |
        python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])') ;;
    *) start_peer "$name" "$dir" ;;
  esac
}

port() { case $1 in foresight) echo 18080 ;; victoria-metrics) echo 18428 ;; influxdb) echo 18086 ;; esac; }

# The URL of question `q`, asked the `i`-th time, through `api`.
url() {  # server api q i
  local base=http://127.0.0.1:$(port "$1") api=$2 q=$3 i=$4 a m h
  a=$(asset "$i"); m=$(metric "$i"); h=$(hour "$i")
  case $api/$q in
    influxql/last1) echo "$base/query?db=bench&epoch=ms&q=$(enc "SELECT last(*) FROM sensor WHERE asset_id = '$a'")" ;;
    influxql/lastN) echo "$base/query?db=bench&epoch=ms&q=$(enc "SELECT last($m) FROM sensor GROUP BY asset_id")" ;;
    influxql/day) echo "$base/query?db=bench&epoch=ms&q=$(enc "SELECT mean($m) FROM sensor WHERE asset_id = '$a' AND time >= $((end_s - 86400))s AND time < ${end_s}s GROUP BY time(1m)")" ;;
    influxql/fleet) echo "$base/query?db=bench&epoch=ms&q=$(enc "SELECT mean($m) FROM sensor WHERE time >= ${h}s AND time < $((h + 3600))s GROUP BY time(1m), asset_type")" ;;
    promql/last1) echo "$base/api/v1/query?time=$now_s&query=$(enc "{__name__=~\"sensor_.+\",asset_id=\"$a\"}")" ;;
    promql/lastN) echo "$base/api/v1/query?time=$now_s&query=$(enc "sensor_$m")" ;;
    promql/day) echo "$base/api/v1/query_range?start=$((end_s - 86400 + 60))&end=$end_s&step=60&query=$(enc "avg_over_time(sensor_$m{asset_id=\"$a\"}[1m])")" ;;
    promql/fleet) echo "$base/api/v1/query_range?start=$((h + 60))&end=$((h + 3600))&step=60&query=$(enc "avg by (asset_type) (avg_over_time(sensor_$m[1m]))")" ;;
    rest/last1) echo "$base/api/v1/tenants/bench/readings/latest?asset_id=$a" ;;
    rest/lastN) echo "$base/api/v1/tenants/bench/readings/latest?metric=$m" ;;
    rest/day) echo "$base/api/v1/tenants/bench/assets/$a/readings?metric=$m&from=$((end_s - 86400))000&to=${end_s}000&step=60s&aggregate=mean" ;;
  esac
}

# How many series (or items) an answer holds: the check that each system answered the question.
count_series() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
if "results" in d: print(sum(len(r.get("series", [])) for r in d["results"]))
elif "data" in d: print(len(d["data"]["result"]))
elif "items" in d: print(len(d["items"]))
elif "points" in d: print(len(d["points"]))
else: print(-1)'
}

apis_of() { case $1 in foresight) echo "rest influxql promql" ;; victoria-metrics) echo promql ;; influxdb) echo influxql ;; esac; }

rows=()
for name in ${TARGETS:-foresight victoria-metrics influxdb}; do
  dir=$work/data-$name
  start_server "$name" "$dir"
  auth=()
  [[ $name == foresight ]] && auth=(-H "Authorization: Token $read_token")
  path='/write?db=bench'
  loaded=$("$build/tools/foresight" loadgen --json --mode http --url "127.0.0.1:$(port "$name")" \
    --path "$path" --token "$token" --steps "$steps" --batch 5000 --connections 4 2>/dev/null)
  echo "$name: loaded $loaded" >&2
  # VictoriaMetrics makes new rows searchable within a second or two; wait until the last is.
  if [[ $name == victoria-metrics ]]; then
    for _ in $(seq 200); do
      n=$(curl -s "http://127.0.0.1:18428/api/v1/query?time=$now_s&query=count(sensor_temperature)" |
        python3 -c 'import sys,json;r=json.load(sys.stdin)["data"]["result"];print(r[0]["value"][1] if r else 0)')
      [[ $n == 1000 ]] && break; sleep 0.1
    done
  fi
  cpu_before=$(cpu_ticks "$pid")
  for api in $(apis_of "$name"); do
    for q in last1 lastN day fleet; do
      [[ $api == rest && $q == fleet ]] && continue
      : >"$work/curlrc"
      for i in $(seq 0 $((queries - 1))); do
        printf 'url = "%s"\noutput = /dev/null\n' "$(url "$name" "$api" "$q" "$i")" >>"$work/curlrc"
      done
      # One untimed answer, checked: 200 and the series it should hold.
      series=$(curl -sf "${auth[@]}" "$(url "$name" "$api" "$q" 0)" | count_series)
      curl -s "${auth[@]}" -K "$work/curlrc" -w '%{http_code} %{time_total}\n' >"$work/times"
      bad=$(awk '$1 != 200' "$work/times" | wc -l)
      stats=$(awk '{print $2 * 1000}' "$work/times" | sort -n |
        awk '{a[NR] = $1} END {printf "%.2f %.2f", a[int((NR + 1) / 2)], a[int(NR * 0.9 + 0.5)]}')
      echo "  $name $api $q: median/p90 ms $stats, series $series, non-200 $bad" >&2
      rows+=("$q|$name|$api|${stats% *}|${stats#* }|$series|$bad")
    done
  done
  cpu=$(awk -v t=$(($(cpu_ticks "$pid") - cpu_before)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')
  echo "$name: server CPU over all its queries ${cpu}s, peak RSS $(($(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024)) MB" >&2
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=
  [[ -z ${KEEP_WORK:-} ]] && rm -rf "$dir"
done

echo
echo "$queries queries per row, each a different asset, metric or hour; $((steps * 8000)) values loaded."
echo "Kernel $(uname -r), $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)."
echo
echo "| query | server | API | median ms | p90 ms | series (REST: items) in one answer | non-200 |"
echo "|---|---|---|---|---|---|---|"
for q in last1 lastN day fleet; do
  printf '%s\n' "${rows[@]}" | awk -F'|' -v q="$q" '$1 == q {printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7}'
done
