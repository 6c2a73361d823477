import { controlSuite } from '../suites/control.suite';
import { amqpTarget, memoryTarget, redisTarget } from '../support/broker-targets';

// Memory, Redis, and RabbitMQ with Redis results; one after another in this file.
for (const target of [memoryTarget('ctl'), redisTarget('ctl'), amqpTarget('ctl', 'redis')]) controlSuite(target);
