# Sourced by the benchmark scripts, not run: what they install, build and start alike.

# Installs the Debian packages of the commands missing among `command[=package] ...`.
need_commands() {
  local need=() spec
  for spec in "$@"; do
    command -v "${spec%%=*}" >/dev/null || need+=("${spec#*=}")
  done
  ((${#need[@]})) || return 0
  local sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
}

# Builds the release binary into build dir $1 unless it is there.
need_release_build() {
  [[ -x $1/tools/foresight ]] && return 0
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFORESIGHT_BUILD_TESTS=OFF >/dev/null
  cmake --build "$1" -j2 --target foresight
}

# A scratch directory $work, removed on exit with the server $pid still running (KEEP_WORK=1
# keeps it).
make_work_dir() {
  work=$(mktemp -d)
  pid=
  trap 'cleanup_work' EXIT
}
cleanup_work() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  [[ -n ${KEEP_WORK:-} ]] && echo "kept $work" >&2 || rm -rf "$work"
}

wait_http() {
  for _ in $(seq 400); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "no answer from $1" >&2
  return 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Starts a peer on an empty data directory, logging into $work, and sets $pid:
# victoria-metrics on 127.0.0.1:18428 (line protocol over TCP on 18089), or InfluxDB 1.6 on
# 127.0.0.1:18086 with the database "bench".
start_peer() {  # name dir
  local name=$1 dir=$2
  case $name in
    victoria-metrics)
      victoria-metrics -storageDataPath="$dir" -httpListenAddr=127.0.0.1:18428 \
        -influxListenAddr=127.0.0.1:18089 -retentionPeriod=100y -loggerLevel=ERROR \
        >"$work/$name.log" 2>&1 &
      pid=$!
      wait_http http://127.0.0.1:18428/health ;;
    influxdb)
      mkdir -p "$dir"
      cat >"$work/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:18088"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:18086"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
CONF
      influxd -config "$work/influxdb.conf" >"$work/$name.log" 2>&1 &
      pid=$!
      wait_http http://127.0.0.1:18086/ping
      curl -sf -XPOST http://127.0.0.1:18086/query --data-urlencode 'q=CREATE DATABASE bench' >/dev/null ;;
    *) echo "unknown peer $name" >&2; return 1 ;;
  esac
}
