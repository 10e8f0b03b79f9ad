#!/usr/bin/env python3
"""The container seccomp profile (deploy/seccomp.json) runs the real server, TCP ingest included.

Loads the profile with libseccomp (python3-seccomp), as a container runtime does before it
executes the entrypoint, then executes `foresight serve` with the io_uring TCP listener on. A
user signs in over HTTP (Argon2id), points arrive over HTTP and over TCP, the server seals them
on SIGTERM and exits 0, and a second start under the profile reads all of them back. A call the
profile lacks fails with EPERM, which the server would report; a test without the profile
loaded would prove nothing, so the child also checks a refused call is refused.

    seccomp_profile_test.py FORESIGHT_BINARY deploy/seccomp.json
"""
import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import seccomp


def confine(profile_path: str) -> None:
    """Runs in the child between fork and exec: the profile's filter, then no way out of it."""
    with open(profile_path) as f:
        profile = json.load(f)
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    flt = seccomp.SyscallFilter(defaction=seccomp.ERRNO(profile.get("defaultErrnoRet", errno.EPERM)))
    for rule in profile["syscalls"]:
        assert rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args")
        for name in rule["names"]:
            flt.add_rule(seccomp.ALLOW, name)
    flt.load()
    try:
        os.setuid(os.getuid())  # in @privileged, so refused: the filter is live
    except PermissionError:
        return
    os._exit(99)


def start(binary: str, profile: str, data: str) -> tuple[subprocess.Popen, int, int]:
    server = subprocess.Popen(
        [binary, "serve", "--data-dir", data, "--listen", "127.0.0.1:0", "--tcp-listen",
         "127.0.0.1:0", "--tokens", "acme:acme-write-token-0123", "--fsync", "always"],
        stdout=subprocess.PIPE, text=True, preexec_fn=lambda: confine(profile))
    http_port = tcp_port = 0
    for line in server.stdout:
        if "listening on http://127.0.0.1:" in line:
            http_port = int(line.split("127.0.0.1:")[1].split()[0])
        if "line protocol over TCP: 127.0.0.1:" in line:
            tcp_port = int(line.split("127.0.0.1:")[1].split()[0])
        if "sign in" in line:
            break
    if not http_port or not tcp_port:
        server.kill()
        sys.exit(f"the server did not start under the profile (exit {server.wait()})")
    return server, http_port, tcp_port


def request(port: int, method: str, target: str, body: bytes = b"", headers=None) -> tuple[int, str]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{target}", data=body or None,
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def sign_in(port: int) -> str:
    status, body = request(port, "POST", "/auth/login",
                           json.dumps({"tenant": "acme", "username": "ana",
                                       "password": "seccomp-check-password"}).encode(),
                           {"Content-Type": "application/json"})
    assert status == 200, (status, body)
    return json.loads(body)["access_token"]


def count(port: int, jwt: str) -> str:
    status, body = request(port, "GET", "/query?db=acme&q=SELECT%20count(temperature)%20FROM%20pump",
                           headers={"Authorization": f"Bearer {jwt}"})
    assert status == 200, (status, body)
    return json.loads(body)["results"][0]["series"][0]["values"][0][1]


def main() -> int:
    binary, profile = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        subprocess.run([binary, "user", "create", "--tenant", "acme", "--username", "ana",
                        "--role", "admin", "--password-stdin", "--data-dir", data],
                       input="seccomp-check-password\n", text=True, check=True, capture_output=True)

        # Points of the last hour: older ones would be past the default raw retention one day.
        t0 = int(time.time()) - 3600
        server, http_port, tcp_port = start(binary, profile, data)
        try:
            jwt = sign_in(http_port)
            lines = "".join(f"pump,asset_id=p{i % 3} temperature={20 + i} {t0 + i}000000000\n"
                            for i in range(100))
            status, body = request(http_port, "POST", "/api/v2/write?bucket=b",
                                   lines.encode(), {"Authorization": "Token acme-write-token-0123"})
            assert status == 204, (status, body)
            tcp_lines = "".join(f"pump,asset_id=p9 temperature={i} {t0 + 1000 + i}000000000\n"
                                for i in range(50))
            with socket.create_connection(("127.0.0.1", tcp_port)) as s:
                s.sendall(b"# token acme-write-token-0123\n" + tcp_lines.encode())
            # TCP writes are not acknowledged: wait for the listener's points by reading them back.
            for _ in range(2000):
                if count(http_port, jwt) == 150:
                    break
            assert count(http_port, jwt) == 150, count(http_port, jwt)
            server.terminate()
            assert server.wait(timeout=60) == 0, "the server did not stop cleanly under the profile"

            server, http_port, _ = start(binary, profile, data)
            restarted = count(http_port, sign_in(http_port))
            server.terminate()
            assert server.wait(timeout=60) == 0
            assert restarted == 150, restarted
        finally:
            server.kill()  # a failed check must not leave a server holding ctest's output
            server.wait()
    print("the server ran under deploy/seccomp.json: HTTP and TCP ingest, sign-in, seal, restart")
    return 0


if __name__ == "__main__":
    sys.exit(main())
