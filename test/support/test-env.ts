/**
 * The one table of shared state the e2e suites use: which Redis server, which Redis DB each suite
 * owns, and the prefix of RabbitMQ vhosts. Two suites never share a DB by accident, and a whole test
 * run can be moved elsewhere (another Redis server, another range of DBs) without touching a suite.
 *
 * - `TASKQUEUE_TEST_REDIS_PORT` (default 6379): the Redis server on 127.0.0.1.
 * - `TASKQUEUE_TEST_DB_BASE` (default 0): added to every DB below. A server started with
 *   `--databases 64` takes bases 0, 16, 32 and 48, so four runs can share it side by side.
 * - `TASKQUEUE_TEST_VHOST_PREFIX` (default `tq`): the start of every test vhost's name.
 */
export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = Number(process.env.TASKQUEUE_TEST_REDIS_PORT ?? 6379);
const DB_BASE = Number(process.env.TASKQUEUE_TEST_DB_BASE ?? 0);
export const VHOST_PREFIX = process.env.TASKQUEUE_TEST_VHOST_PREFIX ?? 'tq';

/**
 * Redis DB of each suite family, before the base is added. Suites that share a number run in the
 * same Jest worker one after another and each deletes only the keys it made (never FLUSHDB).
 * Keep numbers below 16: a default Redis server has 16 DBs.
 */
export const SUITE_DB = {
  /** Broker keys shared with Python workers: test/interop/broker-redis.python. */
  redisBroker: 1,
  /** Node-only broker suites, each test under its own key prefix: test/features/consume.redis. */
  redisNodeBroker: 2,
  /** Result keys: test/features/result-backend.redis, test/interop/broker-redis.python, the results of faults.redis, and store-ack.redis (broker and results in this DB, a unique queue). */
  redisResults: 3,
  /** Results of the suites driven by Python's control tools and task suites: test/interop/control.python, semantics.python. */
  redisPythonResults: 5,
  /** Broker shared with Python's control tools and task suites: test/interop/control.python, semantics.python. */
  redisPythonBroker: 6,
  /** Node-only, each test under its own key prefix: test/features/delayed.redis and exchanges.redis. */
  redisDelayed: 4,
  /** Python-to-Nest calls and the taskq CLI: test/interop/worker.python and cli.python. */
  interopPythonToNest: 7,
  /** Nest-to-Python calls and separate queues: test/interop/client.python and queues.python. */
  interopNestToPython: 8,
  /** The demo and crash safety: test/features/demo.redis and reliability-crash.redis. */
  interopWorkerProcess: 9,
  /** Redis results of the RabbitMQ worker suites: test/features/reliability-worker.amqp, test/interop/worker-amqp.python. */
  amqpResults: 10,
  /** Canvas across Python and Node workers: test/interop/canvas.python. */
  redisCanvas: 11,
  /**
   * The worker process (apps/worker): test/features/worker-process.redis. Shares DB 9 with the demo and
   * crash safety (every other number is taken); each deletes only the keys of its own queue or prefix.
   */
  workerProcess: 9,
  /**
   * The feature runners over every broker target (test/features/{semantics,control,canvas} via
   * test/support/broker-targets.ts). Their teardown empties this whole DB, so it is theirs alone.
   */
  brokerTargets: 13,
  /** The packed tarball installed in throwaway apps (worker, api and taskq processes): test/package/install. */
  /**
   * CPU-bound tasks in the worker's pool: test/features/pool.redis and pool.amqp (Redis broker and results; results of the RabbitMQ
   * runs). Shares 12 with packageInstall and dashboard: it deletes only keys and binding members that carry its own
   * unique queue and node names; the others see its workers but assert only on their own.
   */
  pool: 12,
  packageInstall: 12,
  /**
   * The dashboard, its history and the monitoring CLI with our worker and a Python one: test/dashboard/dashboard,
   * history. Shares 12 with packageInstall: unique queues, hostnames and history prefix; it sees the other
   * file's workers and queues but asserts only on its own, and sends control commands to its own workers only.
   */
  dashboard: 12,
  /** Periodic tasks on Redis (every key under a unique prefix) and with Python Celery: test/features/beat, beat-cli.redis, test/interop/beat.python. */
  beat: 15,
  /** The replica suite (three worker processes with beat on): test/features/beat-replicas.redis. */
  beatReplicas: 14,
  /** Dashboard auth, CSRF, read-only, actions, RabbitMQ with Redis results: test/dashboard/dashboard-{auth,actions,amqp}. Shares 14 with beatReplicas, as `dashboard` shares 12. */
  dashboardAuth: 14,
  /**
   * Health checks (terminus indicator in apps/api, the dashboard's /healthz): test/features/health.redis. Shares 14 with
   * beatReplicas and dashboardAuth: unique queue names and hostnames, deletes only its own queues' keys; it counts the
   * other files' workers in /healthz but asserts only on its own queue (workers, backlog) and on "at least one".
   */
  health: 14,
  /**
   * test/reliability: limits suite and the failover suites' run counters. Shares DB 2 with the
   * Node-only broker suites: every key here is under a unique queue name, and each suite deletes
   * only its own keys.
   */
  reliability: 2,
} as const;

export type SuiteDbName = keyof typeof SUITE_DB;

/** The DB number of a suite family, with the base applied. */
export function suiteDb(name: SuiteDbName): number {
  return SUITE_DB[name] + DB_BASE;
}

/** A redis:// URL of the test server for a DB number (already based). */
export function redisUrlFor(db: number): string {
  return `redis://${REDIS_HOST}:${REDIS_PORT}/${db}`;
}

/** A redis:// URL of the test server for a suite family. */
export function suiteRedisUrl(name: SuiteDbName): string {
  return redisUrlFor(suiteDb(name));
}
