#!/usr/bin/env python3
"""Adds the io_uring system calls to a container seccomp profile, for FORESIGHT's TCP listener.

Container runtimes' default seccomp profiles (Docker's among them) refuse io_uring_setup,
io_uring_enter and io_uring_register. Take your runtime's default profile, pass it through this
script and run the container with the result, e.g.

    deploy/seccomp-add-io-uring.py default.json > foresight-seccomp.json
    docker run --security-opt seccomp=foresight-seccomp.json ...

The three calls are added to a new unconditional allow rule; everything else in the profile is
kept as it is. Reads the profile from the file named (or stdin) and writes it to stdout.
"""
import json
import sys

IO_URING = ["io_uring_setup", "io_uring_enter", "io_uring_register"]


def main() -> int:
    source = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    try:
        profile = json.load(source)
    except json.JSONDecodeError as e:
        print(f"seccomp-add-io-uring: not a JSON profile: {e}", file=sys.stderr)
        return 1
    if not isinstance(profile, dict) or "defaultAction" not in profile:
        print("seccomp-add-io-uring: not a seccomp profile (no defaultAction)", file=sys.stderr)
        return 1
    rules = profile.setdefault("syscalls", [])
    allowed = {
        name
        for rule in rules
        if rule.get("action") == "SCMP_ACT_ALLOW" and not rule.get("args") and not rule.get("includes")
        for name in rule.get("names", [])
    }
    missing = [name for name in IO_URING if name not in allowed]
    if missing:
        rules.append({"names": missing, "action": "SCMP_ACT_ALLOW", "comment": "FORESIGHT TCP ingest (io_uring)"})
    json.dump(profile, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
