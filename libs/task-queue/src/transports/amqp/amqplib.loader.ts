import { dirname, join } from 'node:path';
import { Logger } from '@nestjs/common';
import { assertOptionalPeer } from '../../peers/optional-peer.loader';

/**
 * Loads amqplib, first teaching its field-table decoder the two integer tags py-amqp may write and
 * amqplib does not know: `L` (signed 64-bit, py-amqp's type for |int| > 2^31 - 1) and `U` (signed
 * 16-bit). Without this, one Python message with such a header (`headers={'sent_ms': 1700000000000}`)
 * fails the whole frame: amqplib closes the connection, RabbitMQ redelivers the message, and the
 * consumer loops on it forever (seen on the wire with py-amqp 5.1.1 and amqplib 2.3.1).
 *
 * amqplib's protocol definitions capture `codec.decodeFields` when they load, so the wrapper must be
 * in place before anything requires amqplib. When amqplib was loaded earlier by someone else, the
 * patch cannot apply; that is detected and logged once.
 */
let amqplib: typeof import('amqplib') | null = null;

export function loadAmqplib(): typeof import('amqplib') {
  if (amqplib) return amqplib;
  assertOptionalPeer('amqplib', 'An amqp:// URL');
  const root = dirname(require.resolve('amqplib'));
  const codec = require(join(root, 'lib', 'codec.js')) as {
    decodeFields: (b: Buffer) => unknown;
    tqRetagged?: boolean;
  };
  if (!codec.tqRetagged) {
    const original = codec.decodeFields;
    codec.decodeFields = (slice: Buffer) => original(retagForAmqplib(slice));
    codec.tqRetagged = true;
  }
  amqplib = require('amqplib') as typeof import('amqplib');
  const defs = require(join(root, 'lib', 'defs.js')) as {
    decode(id: number, buf: Buffer): { headers?: Record<string, unknown> };
  };
  if (!decodesSignedLong(defs)) {
    new Logger('AmqpBroker').warn(
      'amqplib was loaded before the task queue could extend its header decoder: a message with an integer header ' +
        'beyond 32 bits (py-amqp type "L") will close the connection each time it is delivered. Load the task queue first.',
    );
  }
  return amqplib;
}

/** Fixed payload sizes of the field types (after the tag byte). */
const FIXED: Record<string, number> = {
  t: 1,
  b: 1,
  B: 1,
  s: 2,
  u: 2,
  U: 2,
  I: 4,
  i: 4,
  f: 4,
  l: 8,
  L: 8,
  d: 8,
  T: 8,
  D: 5,
  V: 0,
};
/** py-amqp tags amqplib lacks → amqplib tags with the same byte layout and signedness. */
const RETAG: Record<string, string> = { L: 'l', U: 's' };

/**
 * The field table with `L`/`U` tags rewritten as amqplib's `l`/`s` (same bytes, signed in both).
 * Returns the buffer itself when there is nothing to rewrite, or when it cannot be walked (amqplib
 * then reports the problem as before).
 */
export function retagForAmqplib(table: Buffer): Buffer {
  const positions: number[] = [];
  if (!walkTable(table, 0, table.length, positions) || positions.length === 0) return table;
  const copy = Buffer.from(table);
  for (const p of positions) copy[p] = RETAG[String.fromCharCode(copy[p])].charCodeAt(0);
  return copy;
}

function walkTable(buf: Buffer, start: number, end: number, out: number[]): boolean {
  let at = start;
  while (at < end) {
    const keyLen = buf[at];
    at += 1 + keyLen;
    const next = walkValue(buf, at, end, out);
    if (next < 0) return false;
    at = next;
  }
  return at === end;
}

/** Offset after the value at `at`, or -1 when the bytes are not a valid value. */
function walkValue(buf: Buffer, at: number, end: number, out: number[]): number {
  if (at >= end) return -1;
  const tag = String.fromCharCode(buf[at]);
  const body = at + 1;
  if (tag in RETAG) out.push(at);
  if (tag in FIXED) return body + FIXED[tag] <= end ? body + FIXED[tag] : -1;
  if (body + 4 > end) return -1;
  const len = buf.readUInt32BE(body);
  const stop = body + 4 + len;
  if (stop > end) return -1;
  switch (tag) {
    case 'S':
    case 'x':
      return stop;
    case 'F':
      return walkTable(buf, body + 4, stop, out) ? stop : -1;
    case 'A': {
      let p = body + 4;
      while (p < stop) {
        p = walkValue(buf, p, stop, out);
        if (p < 0) return -1;
      }
      return p === stop ? stop : -1;
    }
    default:
      return -1;
  }
}

/** Decodes basic properties whose headers hold one `L` value, through amqplib's own definitions. */
function decodesSignedLong(defs: { decode(id: number, buf: Buffer): { headers?: Record<string, unknown> } }): boolean {
  const entry = Buffer.concat([Buffer.from([1]), Buffer.from('k'), Buffer.from('L'), Buffer.alloc(8)]);
  entry.writeBigInt64BE(-5n, 3);
  const buf = Buffer.alloc(2 + 4 + entry.length);
  buf.writeUInt16BE(0x2000, 0); // only the headers flag
  buf.writeUInt32BE(entry.length, 2);
  entry.copy(buf, 6);
  try {
    return defs.decode(60, buf).headers?.k === -5;
  } catch {
    return false;
  }
}
