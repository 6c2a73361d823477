import { SerializationError } from '../errors';
import { toKombuJsonDate, parseIsoTime } from './iso-time';
import { parseTolerantJson } from './tolerant-json.parser';

/**
 * The JSON serializer, compatible with kombu's (celery-wire.md section 2).
 *
 * Encoding is strict: a value that would not come back as sent (BigInt, function, symbol, a cycle,
 * NaN, ±Infinity) is refused with the path to it, so nothing half-encoded is ever published.
 * Dates are written as kombu 5.2 writes an aware UTC datetime; Buffers as base64 text.
 *
 * Decoding accepts everything Celery 5.2 to 5.6 sends: NaN/Infinity tokens, big integers (BigInt),
 * and kombu >= 5.3's tagged `{"__type__", "__value__"}` objects.
 */
export function encodeJson(value: unknown, what = 'value'): string {
  // Fast path for the common small values: nothing to check beyond finiteness.
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (Number.isFinite(value)) return String(value);
      break;
    default:
      if (value === null) return 'null';
  }
  try {
    return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      const raw = key === '' ? value : this[key];
      if (raw instanceof Date) {
        if (Number.isNaN(raw.getTime())) throw refuse(what, key, 'an invalid Date');
        return toKombuJsonDate(raw);
      }
      switch (typeof v) {
        case 'number':
          if (!Number.isFinite(v)) throw refuse(what, key, String(v));
          return v;
        case 'bigint':
          throw refuse(what, key, `a BigInt (${v}n); send it as a string`);
        case 'function':
          throw refuse(what, key, 'a function');
        case 'symbol':
          throw refuse(what, key, 'a symbol');
        default:
          if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Buffer.isBuffer(raw)) {
            return (raw as Buffer).toString('base64');
          }
          return v;
      }
    });
  } catch (err) {
    if (err instanceof SerializationError) throw err;
    if (err instanceof TypeError && /circular/i.test(err.message)) {
      throw new SerializationError(
        `Cannot send ${what}: it contains a circular reference. Send plain data (no cycles).`,
        { cause: err },
      );
    }
    throw new SerializationError(`Cannot send ${what}: ${(err as Error).message}`, { cause: err });
  }
  function refuse(w: string, key: string, desc: string): SerializationError {
    return new SerializationError(
      `Cannot send ${w}: ${key ? `"${key}" is ` : 'it is '}${desc}, which JSON cannot carry faithfully. Convert it to a string or number first.`,
    );
  }
}

const LONG_INTEGER = /(?<![\d.eE])-?\d{16,}(?![\d.eE])/;

/** Parses a JSON text from any Celery peer. */
export function decodeJson(text: string): unknown {
  let value: unknown;
  if (LONG_INTEGER.test(text)) {
    value = parseTolerantJson(text);
  } else {
    try {
      value = JSON.parse(text);
    } catch {
      value = parseTolerantJson(text);
    }
  }
  return text.includes('"__type__"') ? untag(value) : value;
}

/** Converts kombu >= 5.3 tagged values back into JS values. An unknown tag is an error, as in kombu. */
function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag);
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 2 && '__type__' in obj && '__value__' in obj) return fromTag(String(obj.__type__), obj.__value__);
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = untag(obj[k]);
  return out;
}

function fromTag(type: string, v: unknown): unknown {
  switch (type) {
    case 'datetime': {
      // A naive datetime has no offset; parseIsoTime reads it as UTC, Celery's default timezone.
      const d = parseIsoTime(String(v));
      if (!d) throw new SyntaxError(`Bad tagged datetime ${JSON.stringify(v)}`);
      return d;
    }
    case 'date':
    case 'time':
    case 'decimal':
      return String(v);
    case 'uuid': {
      const hex = typeof v === 'object' && v ? String((v as { hex?: unknown }).hex) : String(v);
      const h = hex.replace(/-/g, '');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case 'bytes':
      return Buffer.from(String(v), 'utf8');
    case 'base64':
      return Buffer.from(String(v), 'base64');
    default:
      throw new SyntaxError(`Unknown tagged JSON type "${type}" (kombu __type__)`);
  }
}
