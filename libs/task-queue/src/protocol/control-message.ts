import { randomUUID } from 'node:crypto';
import type { ExchangeSpec, ListenerQueueSpec } from './exchange-spec';
import { decodeJson } from './json.codec';
import { TaskMessage, JSON_CONTENT_TYPE } from './task-message';

/**
 * Celery's remote control ("pidbox", celery-wire.md 9): a broadcast on a fanout exchange that every
 * worker's mailbox queue receives, and replies on a direct exchange to the caller's own queue.
 */

/** The fanout exchange workers listen to (`control_exchange` + `.pidbox`). */
export const PIDBOX_EXCHANGE: ExchangeSpec = { name: 'celery.pidbox', type: 'fanout', durable: false };
/** The direct exchange replies go to, routed by the caller's oid. */
export const REPLY_EXCHANGE: ExchangeSpec = { name: 'reply.celery.pidbox', type: 'direct', durable: false };

/** A worker's mailbox queue, as Celery declares it. */
export function mailboxQueue(hostname: string): ListenerQueueSpec {
  return {
    name: `${hostname}.celery.pidbox`,
    bindingKey: '',
    role: 'control',
    autoDelete: true,
    expiresMs: 10_000,
    messageTtlMs: 300_000,
  };
}

/** A caller's reply queue, as Celery declares it. */
export function replyQueue(oid: string): ListenerQueueSpec {
  return {
    name: `${oid}.reply.celery.pidbox`,
    bindingKey: oid,
    role: 'control',
    autoDelete: true,
    expiresMs: 10_000,
    messageTtlMs: 300_000,
  };
}

export interface ControlRequest {
  method: string;
  arguments: Record<string, unknown>;
  /** Node names that must act, or null for all. */
  destination: string[] | null;
  pattern: string | null;
  matcher: string | null;
  /** Present when a reply is wanted. */
  ticket?: string;
  reply_to?: { exchange: string; routing_key: string };
}

export interface ControlRequestOptions {
  destination?: string[] | null;
  /** Ask for replies to this oid's queue. */
  replyTo?: string;
  /** Seconds the request stays valid (header `expires` = now + this). Default 1. */
  timeout?: number;
  clock?: number;
}

export function buildControlRequest(
  method: string,
  args: Record<string, unknown>,
  o: ControlRequestOptions = {},
): { message: TaskMessage; ticket: string | null } {
  const ticket = o.replyTo ? randomUUID() : null;
  const body: ControlRequest = {
    method,
    arguments: args,
    destination: o.destination ?? null,
    pattern: null,
    matcher: null,
  };
  if (o.replyTo) {
    body.ticket = ticket!;
    body.reply_to = { exchange: REPLY_EXCHANGE.name, routing_key: o.replyTo };
  }
  return {
    ticket,
    message: {
      headers: { clock: o.clock ?? 0, expires: pyFloat(Date.now() / 1000 + (o.timeout ?? 1)) },
      properties: { delivery_mode: 2, priority: 0 },
      contentType: JSON_CONTENT_TYPE,
      contentEncoding: 'utf-8',
      body: Buffer.from(JSON.stringify(body), 'utf8'),
    },
  };
}

/** A control request taken apart, or null when the message is not one. */
export function parseControlRequest(
  msg: TaskMessage,
): { request: ControlRequest; expires: number | null; clock: number } | null {
  const body = decodeJson(msg.body.toString('utf8')) as Partial<ControlRequest> | null;
  if (!body || typeof body !== 'object' || typeof body.method !== 'string') return null;
  const expires = typeof msg.headers.expires === 'number' ? msg.headers.expires : null;
  const clock = typeof msg.headers.clock === 'number' ? msg.headers.clock : 0;
  return {
    request: {
      method: body.method,
      arguments: body.arguments ?? {},
      destination: body.destination ?? null,
      pattern: body.pattern ?? null,
      matcher: body.matcher ?? null,
      ticket: body.ticket,
      reply_to: body.reply_to,
    },
    expires,
    clock,
  };
}

/** Should this node act on the request? (in `destination`, or no destination at all). Glob patterns are honoured too. */
export function isAddressedTo(request: ControlRequest, hostname: string): boolean {
  if (request.destination && request.destination.length > 0 && !request.destination.includes(hostname)) return false;
  if (request.pattern) {
    const re =
      request.matcher === 'pcre'
        ? new RegExp(request.pattern)
        : new RegExp(
            `^${request.pattern
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '.*')
              .replace(/\?/g, '.')}$`,
          );
    if (!re.test(hostname)) return false;
  }
  return true;
}

export function buildControlReply(hostname: string, result: unknown, ticket: string, clock: number): TaskMessage {
  return {
    headers: { ticket, clock },
    properties: { delivery_mode: 1, priority: 0 },
    contentType: JSON_CONTENT_TYPE,
    contentEncoding: 'utf-8',
    body: Buffer.from(JSON.stringify({ [hostname]: result }), 'utf8'),
  };
}

export function parseControlReply(msg: TaskMessage): { ticket: string | null; replies: Record<string, unknown> } {
  const ticket = typeof msg.headers.ticket === 'string' ? msg.headers.ticket : null;
  return { ticket, replies: (decodeJson(msg.body.toString('utf8')) as Record<string, unknown>) ?? {} };
}

/**
 * A number Python reads as a float: Celery's mingle refuses revoke timestamps written without a
 * decimal point (celery-wire.md 9.4), and JSON.stringify writes 1795475000 for an integral double.
 */
export function pyFloat(n: number): number {
  return Number.isInteger(n) ? n + 1e-6 : n;
}
