import { semanticsSuite } from '../suites/semantics.suite';
import { memoryTarget } from '../support/broker-targets';

semanticsSuite(memoryTarget('sem'));
