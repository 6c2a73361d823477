import { controlSuite } from '../suites/control.suite';
import { memoryTarget } from '../support/broker-targets';

controlSuite(memoryTarget('ctl'));
