# Adapted from the team's anchor scripts (procstat.py, unchanged) (used by celery_bench.py).
"""Tiny /proc helpers shared by the Python anchor benchmarks.

cpu_seconds(pids)  -> utime+stime of the given pids (seconds)
rss_kb(pids)       -> summed RSS (KiB)
tree(pid)          -> pid plus all descendants
server_pids()      -> {'redis': pid, 'rabbitmq': pid} of the already-running servers
RssSampler         -> background thread sampling the peak summed RSS of a process tree
"""
import os
import subprocess
import threading
import time

CLK = os.sysconf('SC_CLK_TCK')


def _stat(pid):
    with open(f'/proc/{pid}/stat') as f:
        data = f.read()
    # comm may contain spaces -> split after the closing paren
    rest = data[data.rindex(')') + 2:].split()
    return rest


def cpu_seconds(pids):
    total = 0.0
    for p in pids:
        try:
            r = _stat(p)
            total += (int(r[11]) + int(r[12])) / CLK  # utime, stime
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return total


def rss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open(f'/proc/{p}/status') as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1])
                        break
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def pss_kb(pids):
    """Proportional set size (shared pages split between sharers): fairer than RSS for prefork."""
    total = 0
    for p in pids:
        try:
            with open(f'/proc/{p}/smaps_rollup') as f:
                for line in f:
                    if line.startswith('Pss:'):
                        total += int(line.split()[1])
                        break
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return total


def children(pid):
    out = []
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            try:
                with open(f'/proc/{pid}/task/{tid}/children') as f:
                    out += [int(x) for x in f.read().split()]
            except FileNotFoundError:
                pass
    except FileNotFoundError:
        pass
    return out


def tree(pid):
    res, todo = [], [pid]
    while todo:
        p = todo.pop()
        res.append(p)
        todo += children(p)
    return res


_server_cache = {}


def server_pids():
    if _server_cache:
        return _server_cache
    try:
        info = subprocess.run(['redis-cli', '-h', '127.0.0.1', '-p', os.environ.get('BENCH_REDIS_PORT', '6379'), 'info', 'server'],
                              capture_output=True, text=True, timeout=10).stdout
        for line in info.splitlines():
            if line.startswith('process_id:'):
                _server_cache['redis'] = int(line.split(':')[1])
    except Exception:
        pass
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open(f'/proc/{d}/cmdline', 'rb') as f:
                cmd = f.read().split(b'\0')
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
        if cmd and cmd[0].endswith(b'beam.smp') and b'rabbit' in b' '.join(cmd):
            _server_cache['rabbitmq'] = int(d)
    return _server_cache


class RssSampler(threading.Thread):
    """Samples summed RSS of a process tree every `interval` s; keeps the peak."""

    def __init__(self, pid, interval=0.25):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.peak_main_kb = 0
        self.peak_pss_kb = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            pids = tree(self.pid)
            self.peak_kb = max(self.peak_kb, rss_kb(pids))
            self.peak_main_kb = max(self.peak_main_kb, rss_kb([self.pid]))
            self.peak_pss_kb = max(self.peak_pss_kb, pss_kb(pids))
            self.samples += 1
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join(2)
        return self.peak_kb


class CpuMeter:
    """CPU seconds consumed by named process sets between start() and stop().

    Per-pid accounting: a pid that appears after start() is counted from zero
    (it was born after start), a pid that vanished before stop() is lost
    (so read stop() before terminating the processes).
    """

    def __init__(self, **pidsets):
        self.pidsets = pidsets  # name -> callable returning pids, or list
        self.start_vals = {}

    def _pids(self, v):
        return v() if callable(v) else v

    @staticmethod
    def _per_pid(pids):
        return {p: cpu_seconds([p]) for p in pids}

    def start(self):
        self.t0 = time.perf_counter()
        self.start_vals = {k: self._per_pid(self._pids(v)) for k, v in self.pidsets.items()}
        return self

    def stop(self):
        wall = time.perf_counter() - self.t0
        out = {'wall_s': round(wall, 3)}
        for k, v in self.pidsets.items():
            now = self._per_pid(self._pids(v))
            used = sum(c - self.start_vals[k].get(p, 0.0) for p, c in now.items())
            out[f'{k}_cpu_s'] = round(used, 3)
        return out


def system_busy_seconds():
    """Busy CPU seconds summed over all CPUs since boot (from /proc/stat)."""
    with open('/proc/stat') as f:
        parts = f.readline().split()
    vals = [int(x) for x in parts[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (vals + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLK


def noise_snapshot():
    """Load average + whether anyone holds a Redis MONITOR (which slows Redis a lot)."""
    with open('/proc/loadavg') as f:
        la = f.read().split()[:3]
    monitors = 0
    try:
        cl = subprocess.run(['redis-cli', '-h', '127.0.0.1', '-p', os.environ.get('BENCH_REDIS_PORT', '6379'), 'client', 'list'],
                            capture_output=True, text=True, timeout=10).stdout
        monitors = sum(1 for line in cl.splitlines() if ' flags=O ' in line)
    except Exception:
        pass
    return {'loadavg1': float(la[0]), 'redis_monitor_clients': monitors}
