import { BeatService } from '../beat/beat.service';
import { ConfigurationError } from '../errors';
import { PeriodicEntrySource, PeriodicEntryView } from './periodic-entry.source';

export interface PeriodicPage {
  /** False when there is no store to read (the page says why). */
  available: boolean;
  entries: PeriodicEntryView[];
  /** The scheduler that sends now, when known. */
  leader: string | null;
  note: string | null;
}

/**
 * The Periodic page's data: a `PERIODIC_ENTRY_SOURCE` when the app provides one, else the
 * library's BeatService (its shared store), else nothing.
 */
export class PeriodicEntriesReader {
  constructor(
    private readonly source: PeriodicEntrySource | null,
    private readonly beat: BeatService | null,
  ) {}

  get canEdit(): boolean {
    return !this.source && !!this.beat;
  }

  async read(): Promise<PeriodicPage> {
    if (this.source) return { available: true, entries: await this.source.listEntries(), leader: null, note: null };
    if (!this.beat) return { available: false, entries: [], leader: null, note: 'no beat store in this app' };
    try {
      const [entries, leader] = await Promise.all([this.beat.list(), this.beat.leader()]);
      return {
        available: true,
        entries: entries.map((e) => ({
          name: e.name,
          task: e.task,
          schedule: e.schedule,
          enabled: !e.paused,
          lastRunAt: e.lastRunAt?.toISOString() ?? null,
          nextRunAt: e.nextRunAt?.toISOString() ?? null,
          totalRunCount: e.runs,
        })),
        leader: leader ? `${leader.node}` : null,
        note: null,
      };
    } catch (err) {
      if (err instanceof ConfigurationError) return { available: false, entries: [], leader: null, note: err.message };
      throw err;
    }
  }

  /** Pauses or resumes an entry; false when there is no such entry. */
  async setPaused(name: string, paused: boolean): Promise<boolean> {
    if (!this.beat) throw new ConfigurationError("Periodic entries can be paused only with the library's beat store.");
    return paused ? this.beat.pause(name) : this.beat.resume(name);
  }
}
