import { Logger } from '@nestjs/common';
import { MissedRunPolicy, ResolvedBeatOptions } from '../options/beat-options';
import { BeatLeader } from './beat.leader';
import { BeatPublisher } from './beat.publisher';
import { BeatStore, StoredEntry } from './beat.store';
import { planSlots } from './missed-run.policy';
import { Schedule } from './schedule.interface';
import { entrySchedule } from './schedule.factory';

/** Counters of a scheduler since it started, for logs, tests and the bench. */
export interface BeatStats {
  ticks: number;
  sent: number;
  /** Sends refused because another leader took over (fencing). */
  fenced: number;
  /** Milliseconds between a slot and its send (store clock): sum and maximum. */
  lagSumMs: number;
  lagMaxMs: number;
}

/**
 * The tick loop. Any number of schedulers may run (one per replica); only the one holding the
 * lease sends. Each tick reads only the entries due (ZRANGEBYSCORE), plans each one's slots from
 * its schedule and missed-run policy, and sends them with their bookkeeping in one atomic step.
 * The loop sleeps until the next due time, at most `maxTickMs`, so a runtime change is seen
 * within one tick.
 */
export class BeatScheduler {
  private readonly logger = new Logger('TaskQueueBeat');
  private readonly leader: BeatLeader;
  private readonly schedules = new Map<string, Schedule>();
  private running = false;
  private loopDone: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  readonly stats: BeatStats = { ticks: 0, sent: 0, fenced: 0, lagSumMs: 0, lagMaxMs: 0 };

  constructor(
    private readonly store: BeatStore,
    private readonly publisher: BeatPublisher,
    private readonly options: ResolvedBeatOptions,
    node: string,
  ) {
    this.leader = new BeatLeader(store, node, options.leaseMs, options.renewMs, () => this.wake?.());
  }

  get node(): string {
    return this.leader.node;
  }

  /** Whether this scheduler holds the lease now. */
  isLeader(): boolean {
    return this.leader.current() !== null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.leader.start();
    this.loopDone = this.loop();
  }

  /** Stops ticking, waits for a tick in progress, and releases the lease (another replica takes over at once). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loopDone;
    await this.leader.stop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let wait: number;
      try {
        wait = await this.tick();
      } catch (err) {
        this.logger.warn(`Beat tick failed: ${(err as Error).message}`);
        wait = this.options.renewMs;
      }
      if (!this.running) return;
      if (wait > 0) await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One tick; resolves to the milliseconds until the next one. */
  async tick(): Promise<number> {
    const token = this.leader.current();
    if (token === null) return this.options.renewMs;
    this.stats.ticks++;
    const { now, entries, earliest } = await this.store.due(this.options.batchSize);
    let wake = earliest ?? Infinity;
    for (const stored of entries) {
      if (!this.running) break;
      const next = await this.fireEntry(stored, token, now);
      if (next === 'fenced') return this.options.renewMs;
      if (next !== null) wake = Math.min(wake, next);
    }
    if (entries.length >= this.options.batchSize) return 0;
    return Math.max(1, Math.min(this.options.maxTickMs, wake - now));
  }

  /** Sends one due entry's slots. Resolves to its next due time, null when none, or 'fenced'. */
  private async fireEntry(stored: StoredEntry, token: number, now: number): Promise<number | null | 'fenced'> {
    const due = stored.next!;
    let schedule: Schedule;
    try {
      schedule = this.scheduleOf(stored);
    } catch (err) {
      this.logger.error(
        `Beat entry "${stored.name}" cannot be scheduled and is stopped: ${(err as Error).message} Fix it with BeatService.add or \`taskq schedule add\`.`,
      );
      await this.store.fire({ name: stored.name, token, expectedNext: due, next: null, lastSlot: 0, now, count: 0 });
      return null;
    }
    const policy: MissedRunPolicy = stored.entry.missed ?? 'once';
    const remaining = stored.entry.limit !== undefined ? stored.entry.limit - stored.runs : Infinity;
    const plan = planSlots(schedule, due, now, policy, this.options.skipGraceMs, remaining);
    const queue = this.publisher.queueOf(stored);
    const messages = this.publisher.messages(stored, plan.send, new Date(now));
    const push = this.store.pushesToBroker ? this.publisher.push(queue, messages) : undefined;
    const outcome = await this.store.fire({
      name: stored.name,
      token,
      expectedNext: due,
      next: plan.next,
      lastSlot: plan.send[plan.send.length - 1] ?? 0,
      now,
      count: messages.length,
      push,
    });
    if (outcome === 'fenced') {
      this.stats.fenced++;
      this.logger.warn(
        `Beat: ${this.node} was replaced as leader (token ${token} is stale); "${stored.name}" not sent here.`,
      );
      return 'fenced';
    }
    if (outcome === 'moved') return null;
    if (!push && messages.length) {
      try {
        await this.publisher.publish(queue, messages);
      } catch (err) {
        // The slot is already booked: it is not sent again (at most once on this path), say so.
        this.logger.error(
          `Beat: "${stored.name}" slot(s) ${plan.send.map((s) => new Date(s).toISOString()).join(', ')} could not be sent to queue "${queue}": ${(err as Error).message}`,
        );
        return plan.next;
      }
    }
    for (const slot of plan.send) {
      const lag = Math.max(0, now - slot);
      this.stats.lagSumMs += lag;
      this.stats.lagMaxMs = Math.max(this.stats.lagMaxMs, lag);
    }
    this.stats.sent += messages.length;
    return plan.next;
  }

  /** Parsed schedules, cached by definition (parsing a cron per tick would cost more than the send). */
  private scheduleOf(stored: StoredEntry): Schedule {
    const key = JSON.stringify([stored.entry.schedule, stored.entry.startAt ?? null, stored.entry.endAt ?? null]);
    let s = this.schedules.get(key);
    if (!s) {
      if (this.schedules.size > 50_000) this.schedules.clear();
      this.schedules.set(key, (s = entrySchedule(stored.entry)));
    }
    return s;
  }
}
