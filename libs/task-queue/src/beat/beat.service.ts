import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { RedisKeys } from '../brokers/redis/redis-keys';
import { ResultBackend } from '../backends/result-backend.interface';
import { TaskPublisher } from '../publish/task.publisher';
import { TaskRegistry } from '../registry/task.registry';
import { TASK_QUEUE_CONFIG, TASK_QUEUE_RESULT_BACKEND } from '../task-queue.constants';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { maskUrl } from '../transports/url-mask';
import { TASK_QUEUE_BEAT_CONFIG, PERIODIC_METADATA } from './beat.constants';
import { BeatEntry, PeriodicOptions, ResolvedBeatOptions, ScheduleSpec } from '../options/beat-options';
import { BeatPublisher } from './beat.publisher';
import { BeatScheduler } from './beat.scheduler';
import { BeatLeaderInfo, BeatStore, StoredEntry } from './beat.store';
import { createBeatStore } from './beat-store.factory';
import { entrySchedule, validateEntry } from './schedule.factory';

/** One entry as `list()` and `taskq schedule list` show it. */
export interface BeatEntryInfo {
  name: string;
  task: string;
  /** Readable schedule, e.g. `every 5s` or `cron "*\/5 * * * *" Europe/Berlin`. */
  schedule: string;
  /** Next due time, or null when paused or finished. */
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  runs: number;
  paused: boolean;
  source: 'code' | 'runtime';
  entry: BeatEntry;
}

/**
 * Periodic tasks at run time: add, update, remove, pause, resume and list entries in the shared
 * store (a change reaches the leader within one tick, wherever it was made), and run this
 * process's scheduler when `worker.beat` is on. Entries declared in code (`beatSchedule`,
 * `@Periodic`) are upserted at bootstrap without undoing a runtime pause.
 */
@Injectable()
export class BeatService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('TaskQueueBeat');
  private storeInstance: BeatStore | null = null;
  private schedulerInstance: BeatScheduler | null = null;
  private booted = false;

  constructor(
    @Inject(TASK_QUEUE_CONFIG) private readonly config: ResolvedTaskQueueOptions,
    @Inject(TASK_QUEUE_BEAT_CONFIG) private readonly beat: ResolvedBeatOptions,
    private readonly registry: TaskRegistry,
    private readonly publisher: TaskPublisher,
    @Inject(TASK_QUEUE_RESULT_BACKEND) private readonly backend: ResultBackend,
  ) {}

  /** The shared store (opened on first use). Throws ConfigurationError when the setup has none. */
  get store(): BeatStore {
    return (this.storeInstance ??= createBeatStore(this.beat, this.config));
  }

  /** This process's scheduler, once started. */
  get scheduler(): BeatScheduler | null {
    return this.schedulerInstance;
  }

  /** Adds an entry, or replaces its definition (its next run is recomputed; a pause and its run count stay). */
  async add(name: string, entry: BeatEntry): Promise<void> {
    await this.upsert(name, entry, 'runtime');
  }

  /** Same as add: an entry is keyed by name. */
  update(name: string, entry: BeatEntry): Promise<void> {
    return this.add(name, entry);
  }

  /** Removes an entry. False when there was none. */
  remove(name: string): Promise<boolean> {
    return this.store.remove(name);
  }

  /** Stops an entry from firing until resumed (kept across restarts and code upserts). False when there is no such entry. */
  pause(name: string): Promise<boolean> {
    return this.store.setPaused(name, true, null);
  }

  /** Resumes a paused entry at its next slot from now (the slots it missed while paused are not sent). */
  async resume(name: string): Promise<boolean> {
    const stored = await this.store.get(name);
    if (!stored) return false;
    const now = await this.store.now();
    return this.store.setPaused(name, false, entrySchedule(stored.entry).next(now));
  }

  async get(name: string): Promise<BeatEntryInfo | null> {
    const s = await this.store.get(name);
    return s ? info(s) : null;
  }

  async list(): Promise<BeatEntryInfo[]> {
    return (await this.store.list()).map(info);
  }

  /** The node that sends now, with its fencing token, or null when no scheduler runs. */
  leader(): Promise<BeatLeaderInfo | null> {
    return this.store.leader();
  }

  /** Starts this process's scheduler (what `worker.beat: true` and `taskq beat` do). Any number of processes may. */
  async startScheduler(): Promise<BeatScheduler> {
    if (this.schedulerInstance) return this.schedulerInstance;
    const keys = this.beat.storeIsBroker ? new RedisKeys(this.config.redis.keyPrefix) : null;
    const publisher = new BeatPublisher(this.publisher, this.backend.replyTo, keys);
    const node = `${this.config.worker.hostname}/${process.pid}/${randomBytes(3).toString('hex')}`;
    this.schedulerInstance = new BeatScheduler(this.store, publisher, this.beat, node);
    await this.schedulerInstance.start();
    this.logger.log(
      `Beat scheduler ${node} started (store ${this.store.pushesToBroker ? 'is the broker' : maskUrl(this.beat.store ?? '')}; lease ${this.beat.leaseMs / 1000}s renewed every ${this.beat.renewMs / 1000}s).`,
    );
    return this.schedulerInstance;
  }

  async stopScheduler(): Promise<void> {
    const s = this.schedulerInstance;
    this.schedulerInstance = null;
    await s?.stop();
  }

  async onApplicationBootstrap(): Promise<void> {
    // Once: a Nest microservice runs the init hooks twice.
    if (this.booted) return;
    this.booted = true;
    const code = this.codeEntries();
    if (!this.beat.store && !this.config.worker.beat) {
      // An app that only sends (an API on RabbitMQ + rpc://) may import task modules with @Periodic:
      // it must still boot. The processes that run a scheduler need the store and fail without it.
      if (Object.keys(code).length)
        this.logger.warn(
          `${Object.keys(code).length} periodic entries declared in code are not stored by this app: it has no beat store (set beat.store); the schedulers' apps store them.`,
        );
      return;
    }
    for (const [name, entry] of Object.entries(code)) await this.upsert(name, entry, 'code');
    if (this.config.worker.beat) await this.startScheduler();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stopScheduler();
  }

  async onApplicationShutdown(): Promise<void> {
    const s = this.storeInstance;
    this.storeInstance = null;
    await s?.close();
  }

  private async upsert(name: string, entry: BeatEntry, source: 'code' | 'runtime'): Promise<void> {
    validateEntry(name, entry);
    const clean = JSON.parse(JSON.stringify(entry)) as BeatEntry;
    const now = await this.store.now();
    await this.store.upsert(name, clean, source, entrySchedule(clean).next(now));
  }

  /** `beatSchedule` plus every @Periodic task method (entry name = task name). */
  private codeEntries(): Record<string, BeatEntry> {
    const out: Record<string, BeatEntry> = { ...this.beat.schedule };
    for (const def of this.registry.all()) {
      const method = def.source.slice(def.source.lastIndexOf('.') + 1);
      const fn = (def.instance as Record<string, unknown> | undefined)?.[method];
      const meta =
        typeof fn === 'function'
          ? (Reflect.getMetadata(PERIODIC_METADATA, fn) as
              { schedule: ScheduleSpec; options: PeriodicOptions } | undefined)
          : undefined;
      if (meta) out[def.name] = { ...meta.options, task: def.name, schedule: meta.schedule };
    }
    return out;
  }
}

function info(s: StoredEntry): BeatEntryInfo {
  let schedule: string;
  try {
    schedule = entrySchedule(s.entry).describe();
  } catch {
    schedule = `invalid ${JSON.stringify(s.entry.schedule)}`;
  }
  return {
    name: s.name,
    task: s.entry.task,
    schedule,
    nextRunAt: s.next === null ? null : new Date(s.next),
    lastRunAt: s.lastRunAt === null ? null : new Date(s.lastRunAt),
    runs: s.runs,
    paused: s.paused,
    source: s.source,
    entry: s.entry,
  };
}
