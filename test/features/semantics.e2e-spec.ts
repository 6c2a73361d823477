import { semanticsSuite } from '../suites/semantics.suite';
import { amqpTarget, memoryTarget, redisTarget } from '../support/broker-targets';

// The four broker targets, one after another in this file.
for (const target of [memoryTarget('sem'), redisTarget('sem'), amqpTarget('sem', 'redis')]) semanticsSuite(target);
// RabbitMQ with rpc:// results: a result goes only to the caller that sent the task, as in Celery.
semanticsSuite(amqpTarget('sem-rpc', 'rpc'), { resultsById: false });
