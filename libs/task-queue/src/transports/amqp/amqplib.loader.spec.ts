import { loadAmqplib, retagForAmqplib } from './amqplib.loader';

/** A field table of one entry `k` = tag + payload. */
function table(tag: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([1]), Buffer.from('k'), Buffer.from(tag), payload]);
}

describe('amqplib loader', () => {
  it('rewrites py-amqp L and U tags, also inside arrays and nested tables', () => {
    const long = Buffer.alloc(8);
    long.writeBigInt64BE(-(2n ** 40n));
    expect(retagForAmqplib(table('L', long))).toEqual(table('l', long));
    const inner = Buffer.concat([Buffer.from('U'), Buffer.from([0xff, 0xfe])]);
    const arr = Buffer.concat([Buffer.from([0, 0, 0, inner.length]), inner]);
    expect(retagForAmqplib(table('A', arr))).toEqual(
      table('A', Buffer.concat([Buffer.from([0, 0, 0, inner.length]), Buffer.from('s'), Buffer.from([0xff, 0xfe])])),
    );
    const nested = table('L', long);
    const f = Buffer.concat([Buffer.from([0, 0, 0, nested.length]), nested]);
    expect(retagForAmqplib(table('F', f))).toEqual(
      table('F', Buffer.concat([Buffer.from([0, 0, 0, nested.length]), table('l', long)])),
    );
  });

  it('leaves tables without those tags, and tables it cannot walk, as they are', () => {
    const s = table('S', Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('x')]));
    expect(retagForAmqplib(s)).toBe(s);
    const broken = table('L', Buffer.alloc(3));
    expect(retagForAmqplib(broken)).toBe(broken);
    const unknown = table('?', Buffer.alloc(8));
    expect(retagForAmqplib(unknown)).toBe(unknown);
  });

  it('makes amqplib decode a signed 64-bit header', () => {
    loadAmqplib();
    const { join, dirname } = require('node:path');
    const defs = require(join(dirname(require.resolve('amqplib')), 'lib', 'defs.js'));
    const long = Buffer.alloc(8);
    long.writeBigInt64BE(-(2n ** 40n));
    const t = table('L', long);
    const buf = Buffer.concat([Buffer.from([0x20, 0x00, 0, 0, 0, t.length]), t]);
    expect(defs.decode(60, buf).headers).toEqual({ k: -(2 ** 40) });
  });
});
