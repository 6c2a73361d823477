import { platform } from 'node:os';
import type { ExchangeSpec } from './exchange-spec';
import { TaskMessage, JSON_CONTENT_TYPE } from './task-message';

/**
 * Celery's monitoring events (celery-wire.md 8), what `celery events` and Flower read.
 * The exchange is a topic exchange on AMQP; on Redis kombu turns it into Pub/Sub channels.
 */
export const EVENT_EXCHANGE: ExchangeSpec = { name: 'celeryev', type: 'topic', durable: true };

/** `worker-heartbeat` → `worker.heartbeat`. */
export function eventRoutingKey(type: string): string {
  return type.replace(/-/g, '.');
}

/** Hours west of UTC, floored, as Python's `time.timezone // 3600`. */
export function utcOffsetHours(now = new Date()): number {
  return Math.floor(now.getTimezoneOffset() / 60);
}

/** The fields every event carries, in Celery's order, around the event's own fields. */
export function eventBody(
  type: string,
  hostname: string,
  clock: number,
  fields: Record<string, unknown>,
  now = Date.now(),
): Record<string, unknown> {
  return { hostname, utcoffset: utcOffsetHours(), pid: process.pid, clock, ...fields, timestamp: now / 1000, type };
}

/** What a worker says about its software in worker-* events. */
export function softwareFields(version: string): Record<string, unknown> {
  return { sw_ident: 'nest-celery', sw_ver: version, sw_sys: platform() === 'linux' ? 'Linux' : platform() };
}

/** The message of one event (or a list of task events, routing key `task.multi`). Header `hostname` is required by Python's gossip. */
export function buildEventMessage(
  hostname: string,
  body: Record<string, unknown> | Array<Record<string, unknown>>,
): TaskMessage {
  return {
    headers: { hostname },
    properties: { delivery_mode: 1, priority: 0 },
    contentType: JSON_CONTENT_TYPE,
    contentEncoding: 'utf-8',
    body: Buffer.from(JSON.stringify(body), 'utf8'),
  };
}
