import { semanticsSuite } from '../suites/semantics.suite';
import { redisTarget } from '../support/broker-targets';

semanticsSuite(redisTarget('sem'));
