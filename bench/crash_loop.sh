#!/usr/bin/env bash
# Time to ready in a kill -9 loop: start `foresight serve`, wait for /ready, push about a million
# values over HTTP (acknowledged, fsync always), kill -9, start again, ... (issue #23: restarts
# stay quick, however often it crashes). Prints, per restart, the time from exec to /ready 200
# (polled every 10 ms) and the points the start replayed from the log (its log line).
#   bench/crash_loop.sh [crashes=40] [steps per crash=125] [build dir=build]
# 1,000 assets x 8 metrics x 125 steps = 1 M values a crash. BASELINE=<build dir> runs that
# build's binary instead, for a before/after.
set -euo pipefail
cd "$(dirname "$0")/.."
crashes=${1:-40}
steps=${2:-125}
build=${3:-build}
token=bench-token-0123456789

source bench/lib.sh
need_commands curl
need_release_build "$build"
binary=${BASELINE:-$build}/tools/foresight
make_work_dir

now_ms() { date +%s%3N; }
echo "| start | ms to ready | points replayed |"
echo "|---|---|---|"
ready_times=()
for ((k = 0; k <= crashes; k++)); do
  : >"$work/server.log"
  start=$(now_ms)
  FORESIGHT_RETENTION_RAW=forever "$binary" serve --data-dir "$work/data" --listen 127.0.0.1:18080 \
    --tokens "bench:$token" \
    --fsync always --ml-schedules off >/dev/null 2>"$work/server.log" &
  pid=$!
  until [[ $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18080/ready) == 200 ]]; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.01
  done
  ready=$(($(now_ms) - start))
  replayed=$(sed -n 's/.*replayed [0-9]* unsealed batches (\([0-9]*\) points).*/\1/p' "$work/server.log")
  echo "| $k | $ready | ${replayed:-0} |"
  ((k > 0)) && ready_times+=("$ready")
  ((k == crashes)) && break
  "$build/tools/foresight" loadgen --json --steps "$steps" --batch 5000 --connections 4 \
    --url 127.0.0.1:18080 --path '/write?db=bench' --token "$token" >/dev/null 2>&1
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
done
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
sorted=$(printf '%s\n' "${ready_times[@]}" | sort -n)
echo
echo "restarts after a crash: first ${ready_times[0]} ms, last ${ready_times[-1]} ms," \
  "median $(sed -n "$(((${#ready_times[@]} + 1) / 2))p" <<<"$sorted") ms, worst $(tail -1 <<<"$sorted") ms"
