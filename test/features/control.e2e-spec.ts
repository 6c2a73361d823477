import { controlSuite } from '../suites/control.suite';
import { amqpTarget, memoryTarget, redisTarget } from '../support/broker-targets';

// The four broker targets, one after another in this file.
for (const target of [
  memoryTarget('ctl'),
  redisTarget('ctl'),
  amqpTarget('ctl', 'redis'),
  amqpTarget('ctl-rpc', 'rpc'),
])
  controlSuite(target);
