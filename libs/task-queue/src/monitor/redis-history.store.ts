import type Redis from 'ioredis';
import { CeleryEvent } from './celery-event';
import { HistoryBound, HistoryStore } from './history.store';
import { RECORD_SCRIPT } from './lua/history-record.script';
import { TaskFilter, TaskRecord, matches, recordOf, taskPatch } from './task-record';

/**
 * The task history in Redis, so a dashboard restart loses nothing and several dashboards share it.
 * Layout (under `<prefix>`): `tasks` a sorted set id → first-seen ms, at most `maxTasks` members;
 * `task:<id>` a hash per task (fields of its events, `ev:<type>` timeline entries, `child:<id>`),
 * expiring `ttlSeconds` after its last event. Single-node keys (as kombu's).
 */
export class RedisHistoryStore implements HistoryStore {
  private readonly index: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly bound: HistoryBound,
  ) {
    this.index = `${prefix}tasks`;
  }

  private key(id: string): string {
    return `${this.prefix}task:${id}`;
  }

  async record(e: CeleryEvent): Promise<void> {
    const p = taskPatch(e, this.bound.maxField);
    if (!p) return;
    const pairs = Object.entries(p.fields).flat();
    await RECORD_SCRIPT.run(
      this.redis,
      [this.index, this.key(p.id), p.parentId ? this.key(p.parentId) : ''],
      [p.id, p.at, this.bound.ttlSeconds, this.bound.maxTasks, p.state ?? '', p.rank, `${this.prefix}task:`, ...pairs],
    );
  }

  async merge(id: string, fields: Record<string, string>): Promise<void> {
    if (!Object.keys(fields).length) return;
    if (!(await this.redis.exists(this.key(id)))) return;
    await this.redis.hset(this.key(id), fields);
  }

  async get(id: string): Promise<TaskRecord | null> {
    const h = await this.redis.hgetall(this.key(id));
    return Object.keys(h).length ? recordOf(id, h) : null;
  }

  async list(f: TaskFilter): Promise<TaskRecord[]> {
    const limit = f.limit ?? 100;
    const offset = f.offset ?? 0;
    const out: TaskRecord[] = [];
    let skipped = 0;
    const batch = 500;
    const max = f.to ?? '+inf';
    const min = f.from ?? '-inf';
    const scanLimit = f.scanLimit ?? Infinity;
    for (let start = 0; start < scanLimit; start += batch) {
      const ids = await this.redis.zrevrangebyscore(
        this.index,
        max,
        min,
        'LIMIT',
        start,
        Math.min(batch, scanLimit - start),
      );
      if (!ids.length) break;
      const p = this.redis.pipeline();
      for (const id of ids) p.hgetall(this.key(id));
      const res = (await p.exec()) ?? [];
      const gone: string[] = [];
      for (let i = 0; i < ids.length; i++) {
        const h = res[i]?.[1] as Record<string, string> | undefined;
        if (!h || !Object.keys(h).length) {
          gone.push(ids[i]);
          continue;
        }
        const r = recordOf(ids[i], h);
        if (!matches(r, f)) continue;
        if (skipped < offset) skipped++;
        else out.push(r);
        if (out.length >= limit) return out;
      }
      // Hashes that expired (ttl) leave their index entry: drop it now.
      if (gone.length) await this.redis.zrem(this.index, ...gone);
      if (ids.length < Math.min(batch, scanLimit - start)) break;
    }
    return out;
  }

  size(): Promise<number> {
    return this.redis.zcard(this.index);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
