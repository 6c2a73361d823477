import { poolSuite, redisPoolBroker } from '../suites/pool.suite';

/** CPU-bound tasks in the worker's pool, on Redis: both pool kinds. */
describe('Pool on Redis', () => {
  poolSuite(redisPoolBroker(), 'threads');
  poolSuite(redisPoolBroker(), 'processes');
});
