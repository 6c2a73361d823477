/** What the driver passes to bench/worker.ts and bench/client.ts (env BENCH_CFG, JSON). */
export interface BenchConfig {
  brokerUrl: string;
  resultBackend: string;
  /** Queue to consume / publish to (unique per scenario). */
  queue: string;
  /** Redis key prefix of the library (isolates every key of one scenario; deleted by SCAN afterwards). */
  keyPrefix: string;
  concurrency: number;
  prefetchMultiplier: number;
  /** Latency scenario: worker and client record per-task timestamps (see bench/README.md). */
  trace?: boolean;
}

export function readConfig(): BenchConfig {
  const raw = process.env.BENCH_CFG;
  if (!raw) throw new Error('BENCH_CFG is not set (bench/worker.ts and bench/client.ts are started by bench/run.ts).');
  return JSON.parse(raw) as BenchConfig;
}

export function moduleOptions(cfg: BenchConfig, worker: boolean) {
  return {
    brokerUrl: cfg.brokerUrl,
    resultBackend: cfg.resultBackend,
    defaultQueue: cfg.queue,
    redis: { keyPrefix: cfg.keyPrefix },
    isGlobal: true,
    worker: worker
      ? {
          concurrency: cfg.concurrency,
          prefetchMultiplier: cfg.prefetchMultiplier,
          handleSignals: false,
          hostname: `bench_${process.pid}@localhost`,
          shutdownTimeout: 10,
        }
      : undefined,
  };
}
