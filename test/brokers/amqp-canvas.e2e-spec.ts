import { canvasSuite } from '../suites/canvas.suite';
import { amqpTarget } from '../support/broker-targets';

// RabbitMQ with Redis results: everything, chords included.
canvasSuite(amqpTarget('canvas', 'redis'));
// RabbitMQ with rpc:// results: chains and groups; chords are refused at build time, as in Celery.
canvasSuite(amqpTarget('canvas-rpc', 'rpc'), { chords: false });
