#!/usr/bin/env bash
# REST API latency with wrk (Debian's) against a fresh FORESIGHT holding 1,000 assets, 300 open
# alerts and 200 rules in one tenant: the asset list, the alert list and the fleet summary.
# Each endpoint is measured twice: paced at about 1,000 requests/s (10 connections, each waiting
# 10 ms between requests, bench/wrk_paced.lua) for the latency goal, and unpaced (as fast as
# wrk can go) for throughput. Prints wrk's requests/s and p50/p90/p99.
#
#   bench/api_wrk.sh [seconds=20] [build dir=build]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
build=${2:-build}
port=18380

source bench/lib.sh
need_commands wrk curl
need_release_build "$build"

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
bin=$build/tools/foresight
out=$("$bin" client create --tenant acme --role admin --data-dir "$work/data" --fsync never)
id=$(awk '/^client_id:/ {print $2}' <<<"$out")
secret=$(awk '/^client_secret:/ {print $2}' <<<"$out")
"$bin" serve --data-dir "$work/data" --listen 127.0.0.1:$port --rate-limit 0 --fsync never \
  --log-level warn &
server=$!
for _ in $(seq 100); do curl -sf localhost:$port/health >/dev/null && break; sleep 0.1; done

jwt=$(curl -sf -XPOST localhost:$port/auth/token -H 'Content-Type: application/json' \
  -d "{\"client_id\":\"$id\",\"client_secret\":\"$secret\"}" |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
api=http://127.0.0.1:$port/api/v1/tenants/acme
python3 - "$api" "$jwt" <<'EOF'
import json, sys, urllib.request
api, jwt = sys.argv[1], sys.argv[2]
def post(path, body):
    req = urllib.request.Request(api + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + jwt,
                                          "Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
types, sites, crit = ["pump", "motor", "compressor", "turbine", "transformer"], ["north", "south", "east"], ["low", "medium", "high", "critical"]
for i in range(1000):
    post("/assets", {"id": f"asset-{i:04d}", "name": f"Asset {i}", "asset_type": types[i % 5],
                     "site": sites[i % 3], "criticality": crit[i % 4]})
for i in range(300):
    post("/alerts", {"asset_id": f"asset-{(i * 7) % 1000:04d}", "severity": ["info", "warning", "critical"][i % 3],
                     "message": "threshold crossed", "metric": "vibration_rms", "value": 7.5})
for i in range(200):
    post("/rules", {"name": f"rule {i}", "metric": "vibration_rms", "operator": "gt", "threshold": 7})
EOF

printf '%-34s %-8s %10s %9s %9s %9s\n' endpoint mode req/s p50 p90 p99
for path in "/assets?limit=100" "/alerts?status=open&limit=100" "/reports/fleet"; do
  for mode in paced unpaced; do
    script=bench/wrk_paced.lua
    [[ $mode == unpaced ]] && script=bench/wrk_unpaced.lua
    result=$(wrk -t2 -c10 -d"${seconds}s" --latency -s "$script" -H "Authorization: Bearer $jwt" \
      "$api$path")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$result")
    p90=$(awk '$1 == "90%" {print $2}' <<<"$result")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$result")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$result")
    printf '%-34s %-8s %10s %9s %9s %9s %s\n' "$path" "$mode" "$rps" "$p50" "$p90" "$p99" \
      "${non2xx:+(non-2xx: $non2xx)}"
  done
done
