# Sourced by the ML bench scripts: a fresh FORESIGHT with one tenant, an engineer client and a
# write token, on 127.0.0.1:$PORT (default 18190), stopped and deleted on exit.
# Sets: bin, url, work, tenant, client_id, secret, token.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
bin=$build/tools/foresight
port=${PORT:-18190}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

start_server() {  # tenant
  tenant=$1
  client_id=$tenant-engineer
  "$bin" tenant create "$tenant" --data-dir "$work/db" > /dev/null
  secret=$("$bin" client create --tenant "$tenant" --role engineer --client-id "$client_id" \
    --data-dir "$work/db" | awk '/client_secret/ {print $2}')
  token=$("$bin" token create --tenant "$tenant" --name bench --data-dir "$work/db" |
    awk '/^token/ {print $2}')
  "$bin" serve --data-dir "$work/db" --listen "127.0.0.1:$port" --ml-schedules off \
    > "$work/server.log" 2>&1 &
  server=$!
  url=http://127.0.0.1:$port
  for _ in $(seq 100); do curl -fs "$url/ready" > /dev/null && return; sleep 0.1; done
  echo "the server did not come up: $(cat "$work/server.log")" >&2
  exit 1
}
