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
  /** test/redis: broker keys shared with Python workers. */
  redisBroker: 1,
  /** test/redis: Node-only broker suites, each with its own key prefix. */
  redisNodeBroker: 2,
  /** test/redis: result keys. */
  redisResults: 3,
  /** test/redis: results of the suites driven by Python's control tools and task suites. */
  redisPythonResults: 5,
  /** test/redis: broker shared with Python's control tools and task suites. */
  redisPythonBroker: 6,
  /** test/redis delayed and exchange suites. */
  redisDelayed: 4,
  /** test/interop: Python-to-Nest calls and the taskq CLI. */
  interopPythonToNest: 7,
  /** test/interop: Nest-to-Python calls and separate queues. */
  interopNestToPython: 8,
  /** test/interop: the demo and crash safety. */
  interopWorkerProcess: 9,
  /** test/amqp: Redis results of the RabbitMQ worker suites. */
  amqpResults: 10,
  /** test/canvas on Redis. */
  redisCanvas: 11,
  /** The parametrized feature suites (test/suites via broker-targets) and the worker process suite. */
  brokerTargets: 13,
  /** test/package: the packed tarball installed in throwaway apps (worker, api and taskq processes). */
  packageInstall: 12,
  /** test/beat: periodic tasks on Redis (every key under a unique prefix) and with Python Celery. */
  beat: 15,
  /** test/beat: the replica suite (three worker processes with beat on). */
  beatReplicas: 14,
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
