import { amqpPoolBroker, poolSuite } from '../suites/pool.suite';

/** CPU-bound tasks in the worker's pool, on RabbitMQ (results in Redis): both pool kinds. */
describe('Pool on RabbitMQ', () => {
  poolSuite(amqpPoolBroker(), 'threads');
  poolSuite(amqpPoolBroker(), 'processes');
});
