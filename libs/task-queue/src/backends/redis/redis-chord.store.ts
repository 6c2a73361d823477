import type Redis from 'ioredis';
import { ChordPart } from '../result-backend.interface';
import { decodeJson, encodeJson } from '../../protocol/json.codec';
import { CHORD_PART_SCRIPT, CLOSE_CHORD_SCRIPT } from './lua/chord-part.script';

const TASKSET_PREFIX = 'celery-taskset-meta-';

/**
 * Groups and chords on Redis, in Celery's keys: `celery-taskset-meta-<gid>` for a saved group,
 * `<that>.s` for a chord's size, `.j` for its parts and `.t` for parts added later.
 */
export class RedisChordStore {
  constructor(
    private readonly prefix: string,
    private readonly ttlSeconds: () => number,
  ) {}

  private key(groupId: string, suffix = ''): string {
    return `${this.prefix}${TASKSET_PREFIX}${groupId}${suffix}`;
  }

  /** SETEX (SET when results never expire) + PUBLISH, as Celery's backend `set()`. */
  private async setAndPublish(cmd: Redis, key: string, value: string): Promise<void> {
    const ttl = this.ttlSeconds();
    const p = cmd.multi();
    if (ttl > 0) p.setex(key, ttl, value);
    else p.set(key, value);
    p.publish(key, value);
    await p.exec();
  }

  saveGroup(cmd: Redis, groupId: string, tuple: unknown[]): Promise<void> {
    return this.setAndPublish(cmd, this.key(groupId), encodeJson({ result: tuple }));
  }

  async getGroup(cmd: Redis, groupId: string): Promise<unknown[] | null> {
    const json = await cmd.get(this.key(groupId));
    return json === null ? null : ((decodeJson(json) as { result: unknown[] }).result ?? null);
  }

  async forgetGroup(cmd: Redis, groupId: string): Promise<void> {
    await cmd.del(this.key(groupId));
  }

  setChordSize(cmd: Redis, groupId: string, size: number): Promise<void> {
    return this.setAndPublish(cmd, this.key(groupId, '.s'), String(size));
  }

  async chordPartReturn(cmd: Redis, groupId: string, part: ChordPart): Promise<ChordPart[] | null> {
    const member = encodeJson([1, part.taskId, part.state, part.result]);
    const keys = ['.j', '.t', '.s', '.taskq'].map((s) => this.key(groupId, s));
    const score = part.index === null ? '+inf' : String(part.index);
    const raw = await CHORD_PART_SCRIPT.run<string[] | null>(cmd, keys, [
      part.taskId,
      score,
      member,
      String(this.ttlSeconds()),
    ]);
    if (!raw) return null;
    return raw.map((m, i) => {
      const [, taskId, state, result] = decodeJson(m) as [number, string, string, unknown];
      return { taskId, state, result, index: i };
    });
  }

  async closeChord(cmd: Redis, groupId: string): Promise<boolean> {
    const closed = await CLOSE_CHORD_SCRIPT.run<number>(
      cmd,
      [this.key(groupId, '.s'), this.key(groupId, '.taskq')],
      [],
    );
    return closed === 1;
  }
}
