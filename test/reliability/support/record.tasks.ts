import { Injectable, Module } from '@nestjs/common';
import Redis from 'ioredis';
import { SharedTask } from 'nestjs-celery';

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
