import { controlSuite } from '../suites/control.suite';
import { redisTarget } from '../support/broker-targets';

controlSuite(redisTarget('ctl'));
