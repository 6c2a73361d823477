import { createHash } from 'node:crypto';

/** Namespace of slot task ids (a fixed random UUID, so ids are stable across versions). */
const SLOT_NAMESPACE = '5b0f3c2e-7d1a-4c49-9f43-6f1f2b8f7a10';

/**
 * The task id of one slot of one entry: a UUID v5 (RFC 9562) of `<entry name>\n<slot ms>`. Every
 * replica computes the same id for the same slot, so a slot's message can be told apart from any
 * other (and counted) wherever it was sent from.
 */
export function slotTaskId(entryName: string, slotMs: number): string {
  const ns = Buffer.from(SLOT_NAMESPACE.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(`${entryName}\n${slotMs}`, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
