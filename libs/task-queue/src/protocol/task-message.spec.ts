import { buildTaskMessage, parseTaskMessage, TaskMessage } from './task-message';
import { messageOf, parseEnvelope } from '../brokers/kombu/kombu-envelope';
import { ContentDisallowedError, InvalidTaskMessageError } from '../errors';
import { loadVector } from '../../../../test/support/celery-vectors';

const ctx = { replyTo: 'reply-oid', origin: 'gen1@test' };

function fromRaw(raw: string): TaskMessage {
  return messageOf(parseEnvelope(raw));
}

describe('task message encoder', () => {
  it('emits every header, property and body part a Celery 5.2.6 worker requires, in the captured shape', () => {
    const vector = loadVector('redis-task-envelope.json').envelope;
    const msg = buildTaskMessage('tasks.add', [2, 3], {}, { taskId: 'aaaaaaaa-0000-4000-8000-000000000001' }, ctx);
    expect(Object.keys(msg.headers).sort()).toEqual(Object.keys(vector.headers).sort());
    expect(msg.headers).toMatchObject({
      task: 'tasks.add',
      id: 'aaaaaaaa-0000-4000-8000-000000000001',
      shadow: null,
      eta: null,
      expires: null,
      group: null,
      group_index: null,
      retries: 0,
      timelimit: [null, null],
      root_id: 'aaaaaaaa-0000-4000-8000-000000000001',
      parent_id: null,
      argsrepr: '(2, 3)',
      kwargsrepr: '{}',
      origin: 'gen1@test',
      ignore_result: false,
    });
    expect(msg.properties).toEqual({
      correlation_id: 'aaaaaaaa-0000-4000-8000-000000000001',
      reply_to: 'reply-oid',
      delivery_mode: 2,
      priority: 0,
    });
    expect(msg.contentType).toBe('application/json');
    expect(msg.contentEncoding).toBe('utf-8');
    expect(JSON.parse(msg.body.toString())).toEqual(vector && loadVector('redis-task-envelope.json').body_json);
  });

  it('turns countdown and expires into absolute ISO times and a TTL in ms, as Celery clients do', () => {
    const now = new Date('2026-11-23T22:55:35.186Z');
    const msg = buildTaskMessage(
      'tasks.add',
      [1, 2],
      {},
      {
        countdown: 30,
        expires: 120,
        priority: 7,
        timeLimit: 10,
        softTimeLimit: 5,
        shadow: 'myshadow',
        ignoreResult: true,
      },
      { ...ctx, now },
    );
    expect(msg.headers.eta).toBe('2026-11-23T22:56:05.186000+00:00');
    expect(msg.headers.expires).toBe('2026-11-23T22:57:35.186000+00:00');
    expect(msg.headers.timelimit).toEqual([10, 5]);
    expect(msg.headers.shadow).toBe('myshadow');
    expect(msg.headers.ignore_result).toBe(true);
    expect(msg.properties).toMatchObject({ priority: 7, expiration: '120000' });
  });

  it('accepts an absolute eta and expires date', () => {
    const eta = new Date('2030-01-02T03:04:05.678Z');
    const msg = buildTaskMessage('t', [], {}, { eta, expires: new Date('2030-01-03T00:00:00Z') }, ctx);
    expect(msg.headers.eta).toBe('2030-01-02T03:04:05.678000+00:00');
    expect(msg.headers.expires).toBe('2030-01-03T00:00:00.000000+00:00');
  });

  it('round-trips through its own decoder, kwargs included', () => {
    const msg = buildTaskMessage('tasks.add', [1], { y: 2 }, { taskId: 'id-1' }, ctx);
    const req = parseTaskMessage(msg);
    expect(req).toMatchObject({
      id: 'id-1',
      task: 'tasks.add',
      args: [1],
      kwargs: { y: 2 },
      rootId: 'id-1',
      replyTo: 'reply-oid',
      protocol: 2,
    });
  });
});

describe('task message decoder', () => {
  it.each([
    'redis-task-envelope.json',
    'redis-task-envelope-options.json',
    'redis-task-envelope-links.json',
    'redis-task-envelope-chain.json',
    'redis-task-envelope-chain-next.json',
    'redis-task-envelope-retry.json',
  ])('accepts the captured Celery 5.2.6 message %s', (file) => {
    const v = loadVector(file);
    const raws: string[] = v.raw ? [v.raw] : v.messages.map((m: { raw: string }) => m.raw);
    for (const raw of raws) {
      const req = parseTaskMessage(fromRaw(raw));
      expect(req.task).toMatch(/\w/);
      expect(req.id).toBe(JSON.parse(raw).headers.id);
      expect(Array.isArray(req.args)).toBe(true);
    }
  });

  it('reads eta, expires, timelimit and priority of the options vector', () => {
    const req = parseTaskMessage(fromRaw(loadVector('redis-task-envelope-options.json').raw));
    expect(req.eta?.toISOString()).toBe('2026-11-23T22:56:05.187Z');
    expect(req.expires?.toISOString()).toBe('2026-11-23T22:57:35.187Z');
    expect(req.timeLimit).toEqual([10, 5]);
    expect(req.priority).toBe(7);
    expect(req.shadow).toBe('myshadow');
    expect(req.ignoreResult).toBe(true);
  });

  it('accepts the captured chord header messages', () => {
    const v = loadVector('redis-task-envelope-chord-header.json');
    const items: Array<{ raw: string }> = Array.isArray(v.messages) ? v.messages : [v];
    for (const item of items) {
      const req = parseTaskMessage(fromRaw(item.raw));
      expect(req.group).toBeTruthy();
      expect(req.embed.chord).toBeTruthy();
    }
  });

  it('accepts a protocol 1 message', () => {
    const req = parseTaskMessage(fromRaw(loadVector('redis-task-envelope-protocol1.json').raw));
    expect(req.protocol).toBe(1);
    expect(req.task).toBe('tasks.add');
    expect(req.args.length).toBeGreaterThan(0);
  });

  it("accepts Celery 5.5's new headers and kombu 5.3+ tagged JSON arguments", () => {
    const v = loadVector('redis-task-envelope-celery55.json');
    expect(parseTaskMessage(fromRaw(v.simple.raw)).args).toEqual([2, 3]);
    const typed = parseTaskMessage(fromRaw(v.typed_args.raw));
    const values = JSON.stringify(typed.args, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
    expect(values).not.toContain('__type__');
  });

  it('accepts the AMQP task messages captured from py-amqp', () => {
    for (const m of loadVector('amqp-task-message.json').messages) {
      const msg: TaskMessage = {
        headers: m.properties.application_headers,
        properties: {
          correlation_id: m.properties.correlation_id,
          reply_to: m.properties.reply_to,
          priority: m.properties.priority,
        },
        contentType: m.properties.content_type,
        contentEncoding: m.properties.content_encoding,
        body: Buffer.from(m.body),
      };
      const req = parseTaskMessage(msg);
      expect(req.task).toBe('tasks.add');
    }
  });

  const base = (): TaskMessage => buildTaskMessage('tasks.add', [1, 2], {}, { taskId: 'bad-1' }, ctx);

  it('refuses a body that is not [args, kwargs, embed], saying what it got', () => {
    const msg = { ...base(), body: Buffer.from('[[1, 2], {}]') };
    expect(() => parseTaskMessage(msg)).toThrow(
      new InvalidTaskMessageError('The body must be [args, kwargs, embed]; got an array of 2 item(s).'),
    );
  });

  it('refuses a content type that is not accepted', () => {
    expect(() => parseTaskMessage({ ...base(), contentType: 'application/x-python-serialize' })).toThrow(
      ContentDisallowedError,
    );
  });

  it('refuses a body that is not JSON', () => {
    expect(() => parseTaskMessage({ ...base(), body: Buffer.from('[[1, 2], {}, {') })).toThrow(/not valid JSON/);
  });

  it('refuses kwargs that are not an object, and a malformed timelimit', () => {
    expect(() => parseTaskMessage({ ...base(), body: Buffer.from('[[1], [2], {}]') })).toThrow(
      /kwargs must be an object/,
    );
    expect(() => parseTaskMessage({ ...base(), headers: { ...base().headers, timelimit: [1] } })).toThrow(/timelimit/);
  });

  it('refuses a message with neither a task header nor a protocol 1 body', () => {
    const m = base();
    const { task: _t, ...headers } = m.headers;
    expect(() => parseTaskMessage({ ...m, headers })).toThrow(/not a Celery task message/);
  });
});
