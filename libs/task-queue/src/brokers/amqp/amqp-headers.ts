import type { Message, Options } from 'amqplib';
import { MessageProperties, TaskMessage } from '../../protocol/task-message';

/**
 * How a TaskMessage maps onto AMQP basic properties and `application_headers`, the way py-amqp
 * writes and reads them (celery-wire.md 4.2).
 *
 * Why every header value is typed explicitly here (verified on the wire against py-amqp 5.1.1 on
 * RabbitMQ 3.10.8, see test/amqp/amqp-headers.e2e-spec.ts):
 *
 * amqplib guesses a field type from a JS number: -128..127 → `b`, -32768..32767 → `s`,
 * int32 → `I`, larger → `l`, fractional → `d`. py-amqp reads two of those differently:
 *   - `b` is read as an *unsigned* byte: -1 arrives in Python as 255.
 *   - `s` is read as a *short string* (RabbitMQ's errata says 16-bit int): 300 arrives as ',' and
 *     200 makes py-amqp's decoder run off the end of the frame (IndexError). A Celery worker would
 *     die on `timelimit: [300, 150]` published with amqplib's defaults.
 *   - `l` is read as an *unsigned* 64-bit int (py-amqp writes signed 64-bit as `L`, which amqplib
 *     has no writer for).
 * So integers are sent as `I` (signed 32, as py-amqp writes them) and, beyond 32 bits, as `l`
 * (correct in Python for positive values; negative ones go as `d` so that the sign survives),
 * fractional numbers as `d`, booleans `t`, null `V`, strings `S`, arrays `A`, objects `F`,
 * Dates `T` (whole seconds, as py-amqp). [null, null], [10, 5], nested dicts, bools and nulls
 * all arrive in Python as they do from a Python client.
 *
 * The other way round amqplib decodes every tag py-amqp writes except `L` (signed 64-bit, used by
 * py-amqp for |int| > 2^31 - 1): amqplib fails the whole frame on it, closes the connection, and the
 * redelivered message does it again forever. amqplib.loader.ts teaches amqplib that tag.
 * `T` arrives as `{'!': 'timestamp', value: seconds}` and `D` as `{'!': 'decimal', ...}`;
 * both are turned into plain values below.
 */

/** A value with the field type forced, amqplib's `{'!': type, value}` form. */
interface TypedField {
  '!': string;
  value: unknown;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Converts a header value into what amqplib must write so that py-amqp reads it back unchanged. */
export function toAmqpField(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return numberField(value);
    case 'bigint':
      return value >= BigInt(INT32_MIN) && value <= BigInt(INT32_MAX)
        ? { '!': 'int', value: Number(value) }
        : { '!': 'long', value: value.toString() };
    case 'object':
      if (Array.isArray(value)) return value.map(toAmqpField);
      if (Buffer.isBuffer(value)) return value;
      if (value instanceof Date) return { '!': 'timestamp', value: Math.floor(value.getTime() / 1000) };
      if (isTyped(value)) return value;
      return toAmqpTable(value as Record<string, unknown>);
    default:
      // functions, symbols: not data; py-amqp would refuse them too.
      throw new TypeError(`A header value of type ${typeof value} cannot be sent over AMQP.`);
  }
}

/** A header table with every value typed for py-amqp. Undefined values are left out. */
export function toAmqpTable(table: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(table)) {
    if (v !== undefined) out[k] = toAmqpField(v);
  }
  return out;
}

function numberField(n: number): unknown {
  if (!Number.isFinite(n) || !Number.isInteger(n)) return { '!': 'double', value: n };
  if (n >= INT32_MIN && n <= INT32_MAX) return { '!': 'int', value: n };
  // `l` is unsigned 64-bit for py-amqp: only positive values survive it.
  return n > 0 && Number.isSafeInteger(n) ? { '!': 'long', value: n } : { '!': 'double', value: n };
}

function isTyped(v: object): v is TypedField {
  return Object.hasOwn(v, '!') && Object.hasOwn(v, 'value');
}

/** Turns amqplib's decoded header values into plain JS values (timestamps → Date, decimals → number). */
export function fromAmqpField(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(fromAmqpField);
  if (Buffer.isBuffer(value)) return value;
  if (isTyped(value)) {
    if (value['!'] === 'timestamp') return new Date(Number(value.value) * 1000);
    if (value['!'] === 'decimal') {
      const d = value.value as { places: number; digits: number };
      // py-amqp writes the digits as signed int32; amqplib reads them unsigned.
      return (d.digits | 0) / 10 ** d.places;
    }
    return value.value;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromAmqpField(v);
  return out;
}

/** Properties handled as AMQP basic properties; everything else of MessageProperties is not sent. */
const BASIC_PROPERTIES = ['correlation_id', 'reply_to', 'delivery_mode', 'priority', 'expiration'] as const;

/** The amqplib publish options of a task message (headers typed for py-amqp). */
export function toPublishOptions(message: TaskMessage, extraHeaders: Record<string, unknown> = {}): Options.Publish {
  const p = message.properties ?? {};
  const options: Options.Publish = {
    headers: toAmqpTable({ ...message.headers, ...extraHeaders }),
    contentType: message.contentType || undefined,
    contentEncoding: message.contentEncoding || undefined,
    deliveryMode: p.delivery_mode ?? 2,
    priority: p.priority ?? 0,
  };
  if (p.correlation_id) options.correlationId = p.correlation_id;
  if (p.reply_to) options.replyTo = p.reply_to;
  if (p.expiration !== undefined && p.expiration !== null) options.expiration = String(p.expiration);
  return options;
}

/** Rebuilds a TaskMessage from a delivered AMQP message. */
export function toTaskMessage(msg: Message): TaskMessage {
  const props = msg.properties;
  const headers = (fromAmqpField(props.headers ?? {}) ?? {}) as Record<string, unknown>;
  const properties: MessageProperties = {};
  const source: Record<string, unknown> = {
    correlation_id: props.correlationId,
    reply_to: props.replyTo,
    delivery_mode: props.deliveryMode,
    priority: props.priority,
    expiration: props.expiration,
  };
  for (const key of BASIC_PROPERTIES) {
    if (source[key] !== undefined && source[key] !== null) properties[key] = source[key] as never;
  }
  return {
    headers,
    properties,
    contentType: props.contentType ?? '',
    contentEncoding: props.contentEncoding ?? '',
    body: msg.content,
  };
}

/**
 * Why a delivered message cannot be handed on as a task message, or null when it can be.
 * Only transport-level damage counts here; whether it is a valid Celery task is parseTaskMessage's job.
 */
export function unreadableReason(msg: Message): string | null {
  const headers = msg.properties.headers;
  if (headers !== undefined && headers !== null && (typeof headers !== 'object' || Array.isArray(headers))) {
    return 'its AMQP headers are not a table';
  }
  const encoding = String(msg.properties.contentEncoding ?? '').toLowerCase();
  if (encoding === 'utf-8' || encoding === 'utf8') {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(msg.content);
    } catch {
      return 'its body is declared utf-8 but is not valid UTF-8';
    }
  }
  return null;
}
