"""Runs a command the way the container runs it, and reports on stdout, as JSON, what it did.

test_entrypoint.py starts this file with a JSON spec as its only argument, normally under
`unshare --net --mount`. In that sandbox it
- brings up a loopback interface of its own, so the image's own ports (8080 for the adapter,
  8081 for the simulator) are free whatever else runs on the machine;
- starts the e-Suite simulator (`simulate`), which the adapter's /readyz probes;
- remounts every filesystem except /proc, /sys and /dev read-only, as a container with a
  read-only root filesystem sees them, and checks that a write now fails;
- starts the command with exactly the given environment, checks /healthz and /readyz, sends
  SIGTERM and collects the exit code and output.
Without the sandbox (spec "sandbox": false) it skips the loopback and the remount.

Only the standard library: it runs before anything else is set up.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
KEEP_WRITABLE = ("/proc", "/sys", "/dev")


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            point = line.split()[4].encode().decode("unicode_escape")
            if not any(point == keep or point.startswith(keep + "/") for keep in KEEP_WRITABLE):
                points.append(point)
    return sorted(set(points), key=len)


def remount_read_only() -> None:
    for point in mount_points():
        subprocess.run(["mount", "-o", "remount,bind,ro", point], check=True, capture_output=True)


def write_fails(directory: str) -> str:
    try:
        with open(os.path.join(directory, "write-probe"), "w", encoding="utf-8"):
            pass
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))
    os.unlink(os.path.join(directory, "write-probe"))
    return ""


def get(url: str, deadline: float) -> tuple[int, str]:
    """The first answer from url before the deadline (connection errors are retried)."""
    last = "no attempt"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last = repr(error)
            time.sleep(0.05)
    return 0, last


def call(request: dict) -> tuple[int, str]:
    """One HTTP call of the spec's `calls` (method, url, headers, JSON body): its status and body."""
    data = json.dumps(request["body"]).encode() if "body" in request else None
    prepared = urllib.request.Request(request["url"], data, request.get("headers", {}), method=request["method"])
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return 0, repr(error)


def process_ids(pid: int) -> dict[str, str]:
    """Uid and Gid (real, effective, saved, filesystem), Groups and CapEff of a running process."""
    wanted = ("Uid", "Gid", "Groups", "CapEff")
    with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
        return {k: v.strip() for k, _, v in (line.partition(":") for line in handle) if k in wanted}


def drain(stream, sink: list[str]) -> threading.Thread:
    thread = threading.Thread(target=lambda: sink.extend(stream), daemon=True)
    thread.start()
    return thread


def probe(directory: str) -> int:
    """`--probe DIR`: can this sandbox bring up loopback and make the filesystems read-only?"""
    loopback_up()
    remount_read_only()
    return finish({"write_probe": write_fails(directory)})


def main() -> int:
    if sys.argv[1] == "--probe":
        return probe(sys.argv[2])
    spec = json.loads(sys.argv[1])
    result: dict = {"sandbox": spec["sandbox"], "read_only": False}
    if spec["sandbox"]:
        loopback_up()
    simulator = subprocess.Popen(
        spec["simulator"]["argv"],
        env=spec["simulator"]["env"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process = None
    try:
        status, body = get(spec["simulator"]["ready_url"], time.monotonic() + 20)
        if status == 0:  # any HTTP answer will do: it is up
            result["error"] = f"simulator did not start: {status} {body}"
            return finish(result)
        if spec["sandbox"]:
            remount_read_only()
            result["write_probe"] = write_fails(spec["command"]["cwd"])
            result["read_only"] = result["write_probe"] == "EROFS"
        process = subprocess.Popen(
            spec["command"]["argv"],
            env=spec["command"]["env"],
            cwd=spec["command"]["cwd"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stdout: list[str] = []
        stderr: list[str] = []
        readers = [drain(process.stdout, stdout), drain(process.stderr, stderr)]
        deadline = time.monotonic() + 20
        result["healthz"] = get(spec["adapter_url"] + "/healthz", deadline)
        result["readyz"] = get(spec["adapter_url"] + "/readyz", deadline)
        result["ids"] = process_ids(process.pid) if process.poll() is None else {}
        result["calls"] = [call(request) for request in spec.get("calls", [])]
        result["running_before_sigterm"] = process.poll() is None
        process.send_signal(signal.SIGTERM)
        try:
            result["exit_code"] = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            result["exit_code"] = f"killed after no exit within 20 s of SIGTERM ({process.wait()})"
        for reader in readers:
            reader.join(timeout=5)
        result["stdout"], result["stderr"] = "".join(stdout), "".join(stderr)
        return finish(result)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        simulator.terminate()
        try:
            simulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            simulator.kill()


def finish(result: dict) -> int:
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
