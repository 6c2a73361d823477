import { semanticsSuite } from '../suites/semantics.suite';
import { amqpTarget, memoryTarget, redisTarget } from '../support/broker-targets';

// Memory, Redis, and RabbitMQ with Redis results; one after another in this file.
for (const target of [memoryTarget('sem'), redisTarget('sem'), amqpTarget('sem', 'redis')]) semanticsSuite(target);
