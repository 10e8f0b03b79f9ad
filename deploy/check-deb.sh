#!/usr/bin/env bash
# Checks the Debian package on this machine, as CI does after the release build:
#   deploy/check-deb.sh build/foresight_<version>_amd64.deb
# lintian reports no error; dpkg -i installs it (user, data directory, conffile, unit); the
# first admin is made as the install message says; the unit's ExecStart runs as its user (no
# systemd here: the port is the only thing changed, to one the kernel picks) and answers /health,
# the dashboard and a sign-in; a reinstall keeps an edited conffile; dpkg -r keeps settings and
# data, dpkg -P deletes both. Needs root (or sudo); refuses to touch an installed foresight.
set -euo pipefail
deb=$(realpath "${1:?usage: deploy/check-deb.sh PACKAGE.deb}")
as_root=(); [[ $(id -u) -ne 0 ]] && as_root=(sudo)
if ! command -v lintian >/dev/null; then
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    lintian >/dev/null
fi
if dpkg-query -W -f '${Status}' foresight 2>/dev/null | grep -qv not-installed; then
  echo "check-deb: a foresight package is installed here already; this check installs and purges its own" >&2
  exit 1
fi
fail() { echo "check-deb: $*" >&2; exit 1; }
log=$(mktemp -d)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  "${as_root[@]}" dpkg -P foresight >/dev/null 2>&1 || true
  rm -rf "$log"
}
trap cleanup EXIT

echo "== lintian"
lintian --fail-on error "$deb" 2>&1 | grep -v 'running with root privileges' || true
lintian --fail-on error "$deb" >/dev/null 2>&1 || fail "lintian reports errors"

echo "== dpkg -i"
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" dpkg -i "$deb" | tee "$log/install"
grep -q "foresight user create --config /etc/foresight/foresight.toml" "$log/install" ||
  fail "the install does not say how to make the first admin"
getent passwd foresight >/dev/null || fail "no foresight user"
[[ $(stat -c %U:%a /var/lib/foresight) == foresight:750 ]] || fail "/var/lib/foresight: $(stat -c %U:%a /var/lib/foresight)"
dpkg-query -W -f '${Conffiles}' foresight | grep -q /etc/foresight/foresight.toml ||
  fail "foresight.toml is not a conffile"
unit=/lib/systemd/system/foresight.service
[[ -f $unit ]] || fail "no $unit"
if command -v systemd-analyze >/dev/null; then
  # Unknown keys, bad values and a missing binary are warnings to systemd: errors here.
  verified=$(systemd-analyze verify "$unit" 2>&1) || true
  [[ -z $verified ]] || fail "systemd-analyze verify $unit: $verified"
fi

echo "== the first admin, as the install message says"
password=$(printf 'package-check-password\n' |
  runuser -u foresight -- foresight user create --config /etc/foresight/foresight.toml \
    --tenant acme --username ana --role admin --password-stdin)
echo "$password"

echo "== ExecStart as the unit's user"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[[ $exec_start == "/usr/bin/foresight serve --config /etc/foresight/foresight.toml" ]] ||
  fail "unexpected ExecStart: $exec_start"
# shellcheck disable=SC2086 # ExecStart is a command line
# setpriv execs (no session process in between), so $server is the service's main process, as
# under systemd, and SIGTERM reaches it as systemctl stop sends it.
(cd / && umask 0027 && exec setpriv --reuid=foresight --regid=foresight --init-groups \
  env FORESIGHT_HTTP_LISTEN=127.0.0.1:0 $exec_start >"$log/out" 2>"$log/err") &
server=$!
port=
for _ in $(seq 600); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log/out")
  [[ -n $port ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$log/err" >&2; fail "the server exited before listening"; }
  sleep 0.05
done
[[ -n $port ]] || fail "the server did not say where it listens"
cat "$log/out"
base=http://127.0.0.1:$port
[[ $(curl -s -o /dev/null -w '%{http_code}' "$base/health") == 200 ]] || fail "/health is not 200"
curl -s "$base/" | grep -qi '<!doctype html' || fail "/ is not the dashboard"
code=$(curl -s -o "$log/login" -w '%{http_code}' -XPOST "$base/auth/login" \
  -H 'Content-Type: application/json' \
  -d '{"tenant":"acme","username":"ana","password":"package-check-password"}')
[[ $code == 200 ]] || fail "signing in as the first admin: $code $(cat "$log/login")"
echo "== a backup on request, with the operator token the install made"
[[ $(stat -c %U:%G:%a /etc/foresight/operator.token) == root:foresight:640 ]] ||
  fail "/etc/foresight/operator.token: $(stat -c %U:%G:%a /etc/foresight/operator.token)"
code=$(curl -s -o "$log/backup" -w '%{http_code}' -XPOST "$base/api/v1/admin/backups" \
  -H "Authorization: Bearer $(cat /etc/foresight/operator.token)")
[[ $code == 201 ]] || fail "POST /api/v1/admin/backups: $code $(cat "$log/backup")"
grep -q '"path":"/var/lib/foresight/backups/foresight-' "$log/backup" ||
  fail "the backup is not in /var/lib/foresight/backups: $(cat "$log/backup")"
[[ -z $(find /var/lib/foresight ! -user foresight) ]] ||
  fail "the data directory holds files not owned by foresight"
kill -TERM "$server"
wait "$server" || fail "the server did not stop cleanly on SIGTERM: $(tail -3 "$log/err")"
server=
echo "stopped cleanly on SIGTERM"

echo "== reinstall keeps an edited conffile"
echo '# edited by the operator' | "${as_root[@]}" tee -a /etc/foresight/foresight.toml >/dev/null
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" dpkg -i "$deb" >/dev/null
grep -q 'edited by the operator' /etc/foresight/foresight.toml || fail "the reinstall replaced the edited conffile"

echo "== dpkg -r keeps settings and data"
"${as_root[@]}" dpkg -r foresight >/dev/null
[[ ! -e /usr/bin/foresight ]] || fail "/usr/bin/foresight is left after dpkg -r"
[[ -f /etc/foresight/foresight.toml && -d /var/lib/foresight ]] || fail "dpkg -r removed settings or data"

echo "== dpkg -P deletes them"
"${as_root[@]}" dpkg -P foresight >/dev/null
[[ ! -e /etc/foresight && ! -e /var/lib/foresight ]] || fail "dpkg -P left /etc/foresight or /var/lib/foresight"
echo "check-deb: $(basename "$deb") passes"
