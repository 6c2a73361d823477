// Adapted from the team's anchor scripts (procstat.js, unchanged) (used by bullmq_bench.js).
'use strict';
// Tiny /proc helpers shared by the Node anchor benchmarks.
const fs = require('fs');
const { execFileSync } = require('child_process');

const CLK = 100; // SC_CLK_TCK on Linux x86_64

function cpuSeconds(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLK;
  } catch {
    return 0;
  }
}

function rssKb(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

let cache = null;
function serverPids() {
  if (cache) return cache;
  cache = {};
  try {
    const info = execFileSync(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', process.env.BENCH_REDIS_PORT || '6379', 'info', 'server'],
      { encoding: 'utf8' },
    );
    const m = info.match(/process_id:(\d+)/);
    if (m) cache.redis = Number(m[1]);
  } catch {}
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (cmd[0].endsWith('beam.smp') && cmd.join(' ').includes('rabbit')) cache.rabbitmq = Number(d);
    } catch {}
  }
  return cache;
}

// CPU meter for: this process, the Redis server, RabbitMQ, plus extra pids.
class CpuMeter {
  constructor(extra = {}) {
    this.extra = extra;
  }
  start() {
    const sp = serverPids();
    this.t0 = process.hrtime.bigint();
    this.self0 = process.cpuUsage();
    this.s0 = { redis: cpuSeconds(sp.redis), rabbitmq: cpuSeconds(sp.rabbitmq) };
    for (const [k, pid] of Object.entries(this.extra)) this.s0[k] = cpuSeconds(pid);
    return this;
  }
  stop() {
    const sp = serverPids();
    const wall = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const u = process.cpuUsage(this.self0);
    const out = {
      wall_s: +wall.toFixed(3),
      self_cpu_s: +((u.user + u.system) / 1e6).toFixed(3),
      redis_cpu_s: +(cpuSeconds(sp.redis) - this.s0.redis).toFixed(3),
      rabbitmq_cpu_s: +(cpuSeconds(sp.rabbitmq) - this.s0.rabbitmq).toFixed(3),
    };
    for (const [k, pid] of Object.entries(this.extra)) out[`${k}_cpu_s`] = +(cpuSeconds(pid) - this.s0[k]).toFixed(3);
    return out;
  }
}

function pct(sortedArr, p) {
  if (!sortedArr.length) return null;
  const idx = Math.min(sortedArr.length - 1, Math.ceil((p / 100) * sortedArr.length) - 1);
  return sortedArr[Math.max(0, idx)];
}

function latencyStats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const r = (x) => +x.toFixed(3);
  return {
    n: s.length,
    mean_ms: r(mean),
    p50_ms: r(pct(s, 50)),
    p95_ms: r(pct(s, 95)),
    p99_ms: r(pct(s, 99)),
    max_ms: r(s[s.length - 1]),
  };
}

const rate = (n, sec) => +(n / sec).toFixed(1);

module.exports = { cpuSeconds, rssKb, serverPids, CpuMeter, latencyStats, rate, pct };

function systemBusySeconds() {
  const parts = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = parts;
  return (user + nice + system + irq + softirq + (steal || 0)) / CLK;
}

function noiseSnapshot() {
  const la = fs.readFileSync('/proc/loadavg', 'utf8').split(' ');
  let monitors = 0;
  try {
    const cl = execFileSync(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', process.env.BENCH_REDIS_PORT || '6379', 'client', 'list'],
      { encoding: 'utf8' },
    );
    monitors = cl.split('\n').filter((l) => l.includes(' flags=O ')).length;
  } catch {}
  return { loadavg1: Number(la[0]), redis_monitor_clients: monitors };
}

module.exports.systemBusySeconds = systemBusySeconds;
module.exports.noiseSnapshot = noiseSnapshot;
