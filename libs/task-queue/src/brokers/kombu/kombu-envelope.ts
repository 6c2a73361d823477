import { randomUUID } from 'node:crypto';
import { InvalidTaskMessageError } from '../../errors';
import { TaskMessage, MessageProperties } from '../../protocol/task-message';

/**
 * kombu's "virtual transport" envelope (celery-wire.md 3.2): the JSON object that Redis lists hold.
 * The memory broker uses it too, so that in-process tests carry byte-for-byte what Redis carries.
 */
export interface KombuEnvelope {
  body: string;
  'content-encoding': string;
  'content-type': string;
  headers: Record<string, unknown>;
  properties: MessageProperties & {
    delivery_info: { exchange: string; routing_key: string; redelivered?: boolean };
    body_encoding?: string;
    delivery_tag: string;
  };
}

export function toEnvelope(
  msg: TaskMessage,
  exchange: string,
  routingKey: string,
  deliveryTag: string = randomUUID(),
): KombuEnvelope {
  return {
    body: msg.body.toString('base64'),
    'content-encoding': msg.contentEncoding,
    'content-type': msg.contentType,
    headers: msg.headers,
    properties: {
      ...msg.properties,
      delivery_info: { exchange, routing_key: routingKey },
      body_encoding: 'base64',
      delivery_tag: deliveryTag,
    },
  };
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

/** Parses a raw envelope string. Throws InvalidTaskMessageError with the reason when it is not one. */
export function parseEnvelope(raw: string): KombuEnvelope {
  let env: unknown;
  try {
    env = JSON.parse(raw);
  } catch (err) {
    throw new InvalidTaskMessageError(`The Redis message is not JSON (${(err as Error).message}).`);
  }
  if (!env || typeof env !== 'object' || Array.isArray(env))
    throw new InvalidTaskMessageError('The Redis message is not a kombu envelope object.');
  const e = env as Partial<KombuEnvelope>;
  if (typeof e.body !== 'string') throw new InvalidTaskMessageError('The kombu envelope has no "body" string.');
  if (!e.properties || typeof e.properties !== 'object')
    (e as KombuEnvelope).properties = {} as KombuEnvelope['properties'];
  return e as KombuEnvelope;
}

/** The message inside an envelope. */
export function messageOf(env: KombuEnvelope): TaskMessage {
  const { delivery_info: _info, body_encoding, delivery_tag: _tag, ...properties } = env.properties;
  let body: Buffer;
  if (body_encoding === 'base64') {
    body = Buffer.from(env.body, 'base64');
    if (!isWholeBase64(env.body, body.length))
      throw new InvalidTaskMessageError('The envelope says body_encoding base64, but the body is not base64.');
  } else {
    body = Buffer.from(env.body, 'utf8');
  }
  return {
    headers: env.headers && typeof env.headers === 'object' ? env.headers : {},
    properties,
    contentType: env['content-type'],
    contentEncoding: env['content-encoding'] ?? 'utf-8',
    body,
  };
}

/**
 * Whether `text` is standard base64 that decoded to `decoded` bytes. Buffer.from skips characters
 * outside the alphabet, so a padded text decodes to exactly 3/4 of its length minus the padding
 * only when every character was valid; anything else (line breaks, bad characters) gets the regex.
 */
function isWholeBase64(text: string, decoded: number): boolean {
  const n = text.length;
  if (n % 4 === 0 && text.indexOf('-') < 0 && text.indexOf('_') < 0) {
    const pad = n === 0 ? 0 : text.charCodeAt(n - 1) !== 61 ? 0 : text.charCodeAt(n - 2) !== 61 ? 1 : 2;
    if (decoded === (n / 4) * 3 - pad) return true;
  }
  return BASE64.test(text);
}

/** Marks an envelope as redelivered, as kombu does when it restores one. */
export function markRedelivered(env: KombuEnvelope): KombuEnvelope {
  env.headers = { ...env.headers, redelivered: true };
  env.properties.delivery_info = { ...env.properties.delivery_info, redelivered: true };
  return env;
}
