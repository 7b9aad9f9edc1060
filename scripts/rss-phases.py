#!/usr/bin/env python3
"""Runs a command and attributes its peak memory to the phases its log names.

    python3 scripts/rss-phases.py waterline --log info --workspace W import 'W/*.jsonl'

The command's stderr is read line by line (its log); every line that names a phase
(tracing's INFO and WARN lines: "cache built", "prepared … default reports", …) ends the
phase that was running and starts the next, named by that line. The resident memory of the process is
sampled every 0.2 s from /proc. Prints, per phase, its duration and the highest resident
memory seen during it, then the overall peak (VmHWM). Standard library only; Linux only.
"""

import os
import re
import subprocess
import sys
import threading
import time

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def own_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def tree(pid):
    """The process and its descendants (a wrapper such as /usr/bin/time runs the program as
    its child)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_kb(pid, field="VmRSS"):
    """The largest value of `field` in the process tree (the program, not its wrapper)."""
    values = [kb for kb in (own_kb(p, field) for p in tree(pid)) if kb is not None]
    return max(values) if values else None


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    started = time.monotonic()
    process = subprocess.Popen(
        sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    phases = []  # (label, started, ended, peak_kb)
    current = {"label": "start", "at": 0.0, "peak": 0}
    hwm = {"kb": 0}
    lock = threading.Lock()

    def sample():
        while process.poll() is None:
            kb = rss_kb(process.pid)
            high = rss_kb(process.pid, "VmHWM")
            with lock:
                if kb:
                    current["peak"] = max(current["peak"], kb)
                if high:
                    hwm["kb"] = max(hwm["kb"], high)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    for line in process.stderr:
        line = ANSI.sub("", line).rstrip()
        if " INFO " not in line and " WARN " not in line:
            continue
        message = line.split(" INFO ", 1)[-1].split(" WARN ", 1)[-1]
        now = time.monotonic() - started
        with lock:
            phases.append((current["label"], current["at"], now, current["peak"]))
            current.update(label=message[:110], at=now, peak=rss_kb(process.pid) or 0)
    code = process.wait()
    sampler.join(timeout=1)
    now = time.monotonic() - started
    phases.append((current["label"], current["at"], now, current["peak"]))
    print(f"{'phase: from this log line to the next':<112} {'s':>8} {'peak MB':>9}")
    for label, begun, ended, peak in phases:
        print(f"{label:<112} {ended - begun:8.1f} {peak / 1024:9.0f}")
    print(f"total {now:.1f} s, peak (VmHWM) {hwm['kb'] / 1024:.0f} MB, exit {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
