// /proc and Redis helpers for the benchmark driver (same definitions as the anchors' lib/procstat.js:
// CPU from /proc/<pid>/stat utime+stime, RSS from VmRSS, percentiles by nearest rank).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const CLK = 100;

export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLK;
  } catch {
    return 0;
  }
}

export function rssKb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

let servers: { redis?: number; rabbitmq?: number } | null = null;
export function serverPids(): { redis?: number; rabbitmq?: number } {
  if (servers) return servers;
  servers = {};
  try {
    const m = execFileSync(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', process.env.BENCH_REDIS_PORT ?? '6379', 'info', 'server'],
      {
        encoding: 'utf8',
      },
    ).match(/process_id:(\d+)/);
    if (m) servers.redis = Number(m[1]);
  } catch {
    /* no redis-cli */
  }
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (cmd[0].endsWith('beam.smp') && cmd.join(' ').includes('rabbit')) servers.rabbitmq = Number(d);
    } catch {
      /* gone */
    }
  }
  return servers;
}

/** Busy CPU seconds of the whole machine (all cores). */
export function systemBusySeconds(): number {
  const p = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = p;
  return (user + nice + system + irq + softirq + (steal || 0)) / CLK;
}

export function loadavg(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

export function redisCli(...args: string[]): string {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', process.env.BENCH_REDIS_PORT ?? '6379', ...args], {
    encoding: 'utf8',
  });
}

/** INFO commandstats as { cmd: calls } (server-wide: other tenants' traffic is included). */
export function commandCalls(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of redisCli('info', 'commandstats').split('\n')) {
    const m = line.match(/^cmdstat_([^:]+):calls=(\d+)/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

export function diffCalls(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const x = v - (a[k] ?? 0);
    if (x > 0) d[k] = x;
  }
  return d;
}

export function redisMonitorClients(): number {
  try {
    return redisCli('client', 'list')
      .split('\n')
      .filter((l) => l.includes(' flags=O ')).length;
  } catch {
    return -1;
  }
}

export function pct(sorted: number[], p: number): number {
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)];
}

export function latencyStats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => +x.toFixed(3);
  return {
    n: s.length,
    mean_ms: r(s.reduce((a, b) => a + b, 0) / s.length),
    p50_ms: r(pct(s, 50)),
    p95_ms: r(pct(s, 95)),
    p99_ms: r(pct(s, 99)),
    max_ms: r(s[s.length - 1]),
  };
}

export const rate = (n: number, sec: number) => +(n / sec).toFixed(1);
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
