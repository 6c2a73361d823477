import { canvasSuite } from '../suites/canvas.suite';
import { redisTarget } from '../support/broker-targets';

canvasSuite(redisTarget('canvas'));
