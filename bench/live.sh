#!/usr/bin/env bash
# The live engine end to end (issue #5), on this machine, in one run:
#   - alert latency: from sending a point over HTTP /write to the "opened" event on a WebSocket
#     client (bench/live_probe.cc), p50/p90/p99/max, first on an idle server, then while
#     `foresight loadgen` pushes the IoT workload (1,000 assets x 8 metrics) as fast as it can;
#   - during the loaded run, 1,000 WebSocket clients each follow one asset's readings at 1/s.
#
#   bench/live.sh [load steps=3000] [probe seconds=5] [build dir=build]
#
# The server runs with its defaults (fsync always). Loader, probe and server share the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-3000}
seconds=${2:-5}
build=${3:-build}
token=bench-token-0123456789
port=18080

if [[ ! -x $build/tools/foresight || ! -x $build/bench/live_probe ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFORESIGHT_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j2 --target foresight live_probe
fi
foresight=$build/tools/foresight
work=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

secret=$("$foresight" client create --data-dir "$work/data" --tenant bench --role admin \
  --client-id bench-admin --log-level error | awk '/client_secret:/ {print $2}')
FORESIGHT_RETENTION_RAW=forever "$foresight" serve --data-dir "$work/data" \
  --listen "127.0.0.1:$port" --tokens "bench:$token" \
  --ml-schedules off --log-level warn >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/ready" && break; sleep 0.05; done
jwt=$(curl -sf "http://127.0.0.1:$port/auth/token" -H 'Content-Type: application/json' \
  -d "{\"client_id\":\"bench-admin\",\"client_secret\":\"$secret\"}" |
  sed 's/.*"access_token":"\([^"]*\)".*/\1/')
curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/tenants/bench/rules" \
  -H "Authorization: Bearer $jwt" -H 'Content-Type: application/json' \
  -d '{"name":"probe","metric":"v","operator":"gt","threshold":0.5,"severity":"critical","scope":{"asset_id":"probe-1"}}'
load=("$foresight" loadgen --json --mode http --url "127.0.0.1:$port" --path '/write?db=bench'
      --token "$token" --batch 5000 --connections 4)
# One step creates the 1,000 assets the followers subscribe to; a first point the probe's asset.
"${load[@]}" --steps 1 >/dev/null 2>&1
curl -sf -o /dev/null "http://127.0.0.1:$port/write?db=bench" -H "Authorization: Token $token" \
  --data-binary 'probe,asset_id=probe-1 v=0 1'
probe=("$build/bench/live_probe" --port "$port" --jwt "$jwt" --write-token "$token")

echo "idle server:"
"${probe[@]}" --seconds "$seconds" --followers 0

echo "under load ($steps steps = $((steps * 8000)) values), 1,000 followers:"
"${load[@]}" --steps "$steps" >"$work/load.json" 2>/dev/null &
loader=$!
# The loader generates its data before it sends: start probing once the server counts values.
values() { curl -sf "http://127.0.0.1:$port/metrics" | awk '/^foresight_ingest_values_total / {print $2}'; }
start=$(values)
while [[ $(values) == "$start" ]]; do sleep 0.05; done
"${probe[@]}" --seconds "$seconds" --followers 1000
wait "$loader"
echo "loader: $(cat "$work/load.json")"
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")"
