import type { Message } from 'amqplib';
import { loadVector } from '../../../../../test/support/celery-vectors';
import { ORIGIN, buildTaskMessage, parseTaskMessage } from '../../protocol/task-message';
import {
  fromAmqpField,
  toAmqpField,
  toAmqpTable,
  toPublishOptions,
  toTaskMessage,
  unreadableReason,
} from './amqp-headers';

/** An amqplib Message shaped like a captured py-amqp basic_get (vectors/amqp-task-message.json). */
function messageFromVector(v: {
  properties: Record<string, unknown>;
  body: string;
  delivery_info: Record<string, unknown>;
}): Message {
  const p = v.properties;
  return {
    content: Buffer.from(v.body, 'utf8'),
    fields: {
      deliveryTag: 1,
      redelivered: false,
      exchange: '',
      routingKey: String(v.delivery_info.routing_key),
      messageCount: 0,
    } as Message['fields'],
    properties: {
      contentType: p.content_type,
      contentEncoding: p.content_encoding,
      headers: p.application_headers,
      deliveryMode: p.delivery_mode,
      priority: p.priority,
      correlationId: p.correlation_id,
      replyTo: p.reply_to,
      expiration: p.expiration,
      messageId: undefined,
      timestamp: undefined,
      type: undefined,
      userId: undefined,
      appId: undefined,
      clusterId: undefined,
    } as Message['properties'],
  };
}

describe('amqp-headers', () => {
  it('types integers as signed 32-bit (I), as py-amqp writes them, whatever their size', () => {
    expect(toAmqpField(5)).toEqual({ '!': 'int', value: 5 });
    expect(toAmqpField(-1)).toEqual({ '!': 'int', value: -1 });
    expect(toAmqpField(300)).toEqual({ '!': 'int', value: 300 });
    expect(toAmqpField(2 ** 31 - 1)).toEqual({ '!': 'int', value: 2 ** 31 - 1 });
  });

  it('sends larger positive integers as 64-bit and negative ones as double so the sign survives py-amqp', () => {
    expect(toAmqpField(2 ** 40)).toEqual({ '!': 'long', value: 2 ** 40 });
    expect(toAmqpField(-(2 ** 40))).toEqual({ '!': 'double', value: -(2 ** 40) });
    expect(toAmqpField(10n)).toEqual({ '!': 'int', value: 10 });
    expect(toAmqpField(2n ** 40n)).toEqual({ '!': 'long', value: String(2n ** 40n) });
  });

  it('keeps strings, booleans and null, types floats as double, recurses into lists and tables', () => {
    expect(
      toAmqpTable({ s: 'x', b: true, n: null, u: undefined, f: 1.5, l: [null, null], t: { a: [1, 'y'] } }),
    ).toEqual({
      s: 'x',
      b: true,
      n: null,
      f: { '!': 'double', value: 1.5 },
      l: [null, null],
      t: { a: [{ '!': 'int', value: 1 }, 'y'] },
    });
    expect(toAmqpField(new Date(1_700_000_000_500))).toEqual({ '!': 'timestamp', value: 1_700_000_000 });
    expect(() => toAmqpField(() => 1)).toThrow(TypeError);
  });

  it('turns decoded timestamps and decimals into plain values', () => {
    expect(fromAmqpField({ '!': 'timestamp', value: 1_700_000_000 })).toEqual(new Date(1_700_000_000_000));
    expect(fromAmqpField({ '!': 'decimal', value: { places: 2, digits: 1234 } })).toBeCloseTo(12.34);
    // py-amqp writes negative decimals as signed int32; amqplib reads the digits unsigned.
    expect(fromAmqpField({ '!': 'decimal', value: { places: 1, digits: 2 ** 32 - 15 } })).toBeCloseTo(-1.5);
    expect(fromAmqpField({ a: [{ '!': 'timestamp', value: 0 }] })).toEqual({ a: [new Date(0)] });
  });

  it('maps a captured py-amqp task message to a TaskMessage that parses (args, kwargs, eta, expires, priority)', () => {
    const [plain, timed] = loadVector('amqp-task-message.json').messages;
    const req = parseTaskMessage(toTaskMessage(messageFromVector(plain)));
    expect(req).toMatchObject({
      id: 'dddddddd-0000-4000-8000-000000000001',
      task: 'tasks.add',
      args: [2, 3],
      kwargs: { z: 1 },
      replyTo: '8c8bbeb5-5caf-35c4-97b5-18399c647a0e',
      timeLimit: [null, null],
    });
    const msg2 = toTaskMessage(messageFromVector(timed));
    expect(msg2.properties).toEqual({
      correlation_id: timed.properties.correlation_id,
      reply_to: timed.properties.reply_to,
      delivery_mode: 2,
      priority: 5,
      expiration: '300000',
    });
    const req2 = parseTaskMessage(msg2);
    expect(req2.eta?.toISOString()).toBe('2026-11-23T23:01:16.916Z');
    expect(req2.priority).toBe(5);
  });

  it('publishes a built task message with Celery properties and typed headers', () => {
    const msg = buildTaskMessage(
      'tasks.add',
      [1],
      {},
      { expires: 60, priority: 4, timeLimit: 10 },
      { replyTo: 'oid', origin: ORIGIN, now: new Date(0) },
    );
    const o = toPublishOptions(msg);
    expect(o).toMatchObject({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      deliveryMode: 2,
      priority: 4,
      correlationId: msg.headers.id,
      replyTo: 'oid',
      expiration: '60000',
    });
    expect(o.headers!.timelimit).toEqual([{ '!': 'int', value: 10 }, null]);
    expect(o.headers!.retries).toEqual({ '!': 'int', value: 0 });
  });

  it('flags a body declared utf-8 that is not UTF-8, and nothing else', () => {
    const m = messageFromVector(loadVector('amqp-task-message.json').messages[0]);
    expect(unreadableReason(m)).toBeNull();
    expect(unreadableReason({ ...m, content: Buffer.from([0xff]) })).toMatch(/not valid UTF-8/);
    expect(
      unreadableReason({
        ...m,
        content: Buffer.from([0xff]),
        properties: { ...m.properties, contentEncoding: 'binary' },
      }),
    ).toBeNull();
  });
});
