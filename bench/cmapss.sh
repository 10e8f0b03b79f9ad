#!/usr/bin/env bash
# NASA C-MAPSS FD001 through FORESIGHT's own path: every engine's readings into a tenant over the
# InfluxDB line-protocol write, its installation and failure through the REST API, `foresight
# train` for remaining useful life (target capped at 125 cycles), `foresight predict` for the last
# cycle of each test engine; prints RMSE and the PHM08 score against RUL_FD001.txt as given.
#
# One cycle is one day. Engine u of a file starts 3 (u - 1) days after 2020-01-01, so the fleet's
# lives overlap in time the way a real fleet's do and the time-based validation split holds the
# last engines to fail. A training engine fails at the end of its last cycle's day, so its RUL
# at cycle c is T - c cycles, as in the literature.
#
# Hyper-parameters: the set with the lowest validation RMSE of those in bench/RESULTS.md (chosen
# on the validation days, never on the test engines). PARAMS="" trains with the server's defaults.
#
# Usage: bench/cmapss.sh [build dir]   (default build)
set -euo pipefail
read -r -a params <<< "${PARAMS-max_depth=5 subsample=0.6 colsample_bytree=0.1 eta=0.02 max_rounds=3000 early_stopping_rounds=150}"
params=("${params[@]/#/--param=}")
source "$(dirname "$0")/ml_server.sh"
data=${DATASETS:-$root/../shared/datasets}/cmapss
start_server cmapss

epoch=$(date -u -d 2020-01-01 +%s)
# Line protocol, one line per engine and cycle: engine,asset_id=<set>-NNN op1=…,s21=… <s>.
to_lines() {  # file prefix
  awk -v prefix="$2" -v epoch="$epoch" '{
    unit = $1; cycle = $2
    printf "engine,asset_id=%s-%03d op1=%s,op2=%s,op3=%s", prefix, unit, $3, $4, $5
    for (i = 6; i <= 26; i++) printf ",s%d=%s", i - 5, $i
    printf " %d\n", epoch + (3 * (unit - 1) + cycle) * 86400
  }' "$1"
}
to_lines "$data/train_FD001.txt" train > "$work/lines"
to_lines "$data/test_FD001.txt" test >> "$work/lines"
split -l 2000 "$work/lines" "$work/chunk."
for chunk in "$work"/chunk.*; do
  curl -fsS -XPOST "$url/api/v2/write?precision=s" -H "Authorization: Token $token" \
    --data-binary @"$chunk"
done
echo "ingested $(wc -l < "$work/lines") readings of $(awk '{print $1}' "$data/train_FD001.txt" |
  sort -u | wc -l) training and $(awk '{print $1}' "$data/test_FD001.txt" | sort -u | wc -l) test engines" >&2

jwt=$(curl -fsS -XPOST "$url/auth/token" -H 'Content-Type: application/json' \
  -d "{\"client_id\":\"$client_id\",\"client_secret\":\"$secret\"}" |
  sed 's/.*"access_token":"\([^"]*\)".*/\1/')
api=$url/api/v1/tenants/cmapss
# Installed the day before its first cycle, so age_days counts cycles.
install() {  # file prefix
  awk -v prefix="$2" -v epoch="$epoch" '!seen[$1]++ {
    printf "%s-%03d %d\n", prefix, $1, epoch + 3 * ($1 - 1) * 86400 }' "$1"
}
{ install "$data/train_FD001.txt" train; install "$data/test_FD001.txt" test; } |
  while read -r asset at; do
    curl -fsS -XPATCH "$api/assets/$asset" -H "Authorization: Bearer $jwt" \
      -H 'Content-Type: application/json' \
      -d "{\"installed_at\":\"$(date -u -d @"$at" +%Y-%m-%dT%H:%M:%SZ)\"}" > /dev/null
  done
# Each training engine fails at the end of its last cycle's day.
{
  echo "asset_id,kind,performed_at"
  awk -v epoch="$epoch" '{ last[$1] = $2 } END { for (u in last)
    printf "train-%03d %d\n", u, epoch + (3 * (u - 1) + last[u] + 1) * 86400 }' \
    "$data/train_FD001.txt" |
    while read -r asset at; do
      echo "$asset,failure,$(date -u -d @"$at" +%Y-%m-%dT%H:%M:%SZ)"
    done
} > "$work/failures.csv"
curl -fsS -XPOST "$api/maintenance/import" -H "Authorization: Bearer $jwt" \
  -H 'Content-Type: text/csv' --data-binary @"$work/failures.csv" > /dev/null

"$bin" train --url "$url" --tenant cmapss --client-id "$client_id" --client-secret "$secret" \
  --targets rul_days --rul-cap-days 125 "${params[@]}"
"$bin" predict --url "$url" --tenant cmapss --client-id "$client_id" \
  --client-secret "$secret" --format csv > "$work/predictions.csv"

# Test engine i's true RUL is line i of RUL_FD001.txt.
awk -F, 'NR == FNR { truth[FNR] = $1 + 0; n = FNR; next }
  $1 ~ /^test-/ { split($1, id, "-"); pred[id[2] + 0] = $5 }
  END {
    for (i = 1; i <= n; i++) {
      if (!(i in pred)) { printf "no prediction for test engine %d\n", i; exit 1 }
      d = pred[i] - truth[i]; se += d * d; score += d < 0 ? exp(-d / 13) - 1 : exp(d / 10) - 1
    }
    printf "C-MAPSS FD001: %d test engines, RMSE %.2f, PHM08 score %.1f\n", n, sqrt(se / n), score
  }' "$data/RUL_FD001.txt" "$work/predictions.csv"
