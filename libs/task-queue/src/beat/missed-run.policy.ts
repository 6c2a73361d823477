import { MissedRunPolicy } from '../options/beat-options';
import { Schedule } from './schedule.interface';

/** What the leader does with one due entry in one tick. */
export interface SlotPlan {
  /** Slots to send now, oldest first (each becomes one message). */
  send: number[];
  /** The entry's next due time after this tick, or null when it has no more slots (endAt, limit). */
  next: number | null;
}

/**
 * Plans the sends of a due entry from its schedule, never from how often the leader ticked: slots
 * are the schedule's instants in (dueMs - 1, nowMs], so a clock that jumps forward (or a long
 * outage) yields at most the policy's number of sends, and one that jumps back yields none until
 * the next slot. Cost is bounded by the policy (catchUp N walks back N slots), not by the gap.
 *
 * @param remaining sends left before the entry's `limit` (Infinity without a limit)
 */
export function planSlots(
  schedule: Schedule,
  dueMs: number,
  nowMs: number,
  policy: MissedRunPolicy,
  graceMs: number,
  remaining = Infinity,
): SlotPlan {
  const latest = schedule.latest(nowMs);
  let send: number[] = [];
  if (latest !== null && latest >= dueMs) {
    if (policy === 'skip') {
      if (nowMs - latest <= graceMs) send = [latest];
    } else if (policy === 'once') {
      send = [latest];
    } else {
      const max = Math.max(1, policy.catchUp);
      for (let s: number | null = latest; s !== null && s >= dueMs && send.length < max; s = schedule.latest(s - 1))
        send.push(s);
      send.reverse();
    }
  }
  if (send.length > remaining) send = send.slice(0, Math.max(0, remaining));
  const next = remaining - send.length <= 0 ? null : schedule.next(nowMs);
  return { send, next };
}
