import { semanticsSuite } from '../suites/semantics.suite';
import { amqpTarget } from '../support/broker-targets';

semanticsSuite(amqpTarget('sem', 'redis'));
