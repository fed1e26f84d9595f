"""Processes of the bench: start, wait for, measure (/proc), stop. Linux only."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """On-CPU time of every thread of `pid` (schedstat, ns) or utime+stime (ticks) as fallback."""
    total_ns = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                total_ns += int(handle.read().split()[0])
        return total_ns / 1e9
    except (OSError, ValueError, IndexError):
        pass
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss(pid: int) -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0); False when not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return found


class Proc:
    """A started server process; `pids` are the processes whose CPU counts (nginx: + workers)."""

    def __init__(self, name: str, popen: subprocess.Popen, log_path: str) -> None:
        self.name = name
        self.popen = popen
        self.log_path = log_path
        self.pids = [popen.pid]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu(self) -> float:
        total = 0.0
        for pid in self.pids:
            try:
                total += cpu_seconds(pid)
            except OSError:
                pass
        return total

    def rss_kb(self) -> int:
        return sum(_safe(status_kb, pid, "VmRSS") for pid in self.pids)

    def hwm_kb(self) -> int:
        return sum(_safe(status_kb, pid, "VmHWM") for pid in self.pids)

    def reset_peak(self) -> bool:
        return all(reset_peak_rss(pid) for pid in self.pids)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)


def _safe(func, *args) -> int:
    try:
        return func(*args)
    except OSError:
        return 0


def start(name: str, argv: list[str], log_dir: str, env: dict | None = None, cwd: str | None = None) -> Proc:
    log_path = os.path.join(log_dir, f"{name}.log")
    log = open(log_path, "wb")
    popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)
    log.close()
    return Proc(name, popen, log_path)


def wait_http(url: str, proc: Proc, timeout: float = 20.0, expect: int = 200) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited (code {proc.popen.returncode}):\n{proc.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == expect:
                    return
        except Exception as error:  # noqa: BLE001 - any failure means "not yet"
            last = error
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} not ready at {url}: {last}\n{proc.log_tail()}")


def which(name: str, extra_dirs: tuple[str, ...] = ("/usr/sbin", "/usr/local/sbin", "/sbin")) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs:
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_tool(name: str, package: str, allow_install: bool, say) -> str | None:
    """The tool's path; installs the Debian package when allowed (root, apt-get), else None."""
    path = which(name)
    if path or not allow_install:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        say(f"{name}: not installed and cannot install (not root or no apt-get)")
        return None
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for attempt in range(2):
        if attempt == 1:
            say("apt-get update (once)")
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300)
        say(f"installing {package} (apt-get)")
        done = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
            env=env,
            capture_output=True,
            timeout=600,
        )
        if done.returncode == 0 and which(name):
            return which(name)
    say(f"{name}: installing {package} failed; continuing without it")
    return None
