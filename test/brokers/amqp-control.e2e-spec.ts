import { controlSuite } from '../suites/control.suite';
import { amqpTarget } from '../support/broker-targets';

controlSuite(amqpTarget('ctl', 'redis'));
