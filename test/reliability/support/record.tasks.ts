import { Injectable, Module } from '@nestjs/common';
import Redis from 'ioredis';
import { SharedTask } from 'nestjs-celery';
import { waitFor } from '../../support/wait';

/**
 * The task of the failover suites: it counts its runs per index in a hash on the shared test
 * Redis (outside the servers that fail), and remembers when each index first ran.
 */
export const runs = { key: '', redis: null as Redis | null, at: new Map<number, number>() };

@Injectable()
class RecordTasks {
  @SharedTask('reliability.record')
  async record(i: number): Promise<number> {
    await runs.redis!.hincrby(runs.key, String(i), 1);
    if (!runs.at.has(i)) runs.at.set(i, Date.now());
    return i;
  }
}

@Module({ providers: [RecordTasks] })
export class RecordModule {}

/** Lost (never ran) and duplicated (ran more than once) indexes out of `total`. */
export function tally(counts: Record<string, string>, total: number): { lost: number[]; duplicated: number } {
  const lost = Array.from({ length: total }, (_, i) => i).filter((i) => !counts[String(i)]);
  const duplicated = Object.values(counts).filter((c) => Number(c) > 1).length;
  return { lost, duplicated };
}

/**
 * After a failover load: waits (up to `timeoutMs`) until every index ran, then gives the lost and
 * duplicated indexes and the time from the kill to the first run of a task published after it.
 * A timeout is not thrown: the counts so far are returned, so the test's assertions say what is missing.
 */
export async function failoverFigures(
  total: number,
  sentAt: Map<number, number>,
  killAt: number,
  timeoutMs: number,
): Promise<{ lost: number[]; duplicated: number; resumeMs: number }> {
  const counts = await waitFor(
    async () => {
      const all = await runs.redis!.hgetall(runs.key);
      return Object.keys(all).length >= total ? all : null;
    },
    `all ${total} tasks to run`,
    timeoutMs,
  ).catch(async () => runs.redis!.hgetall(runs.key));
  const afterKill = [...sentAt].filter(([, t]) => t >= killAt).map(([i]) => runs.at.get(i) ?? Infinity);
  return { ...tally(counts, total), resumeMs: Math.min(...afterKill) - killAt };
}
