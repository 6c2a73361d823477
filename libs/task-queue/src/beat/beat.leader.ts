import { Logger } from '@nestjs/common';
import { BeatStore } from './beat.store';

/**
 * The leader lease of one node. Every node tries every `renewMs`; the holder renews. A node leads
 * while its lease lasts (`leaseMs`); when it dies, another takes over within leaseMs + renewMs, with
 * a higher fencing token that makes the store refuse any late send of the old one.
 */
export class BeatLeader {
  private readonly logger = new Logger('TaskQueueBeat');
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  /** The token while this node leads, else null. */
  token: number | null = null;
  /** Store-clock-free bound: Date.now() until which the last renewal keeps the lease. */
  private validUntil = 0;

  constructor(
    private readonly store: BeatStore,
    readonly node: string,
    private readonly leaseMs: number,
    private readonly renewMs: number,
    private readonly onChange: (token: number | null) => void = () => undefined,
  ) {}

  /** Leads now if the lease is free (awaited, so a lone scheduler starts at once). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.attempt();
  }

  /** The token, if this node leads and its lease has not run out since the last renewal. */
  current(): number | null {
    return this.token !== null && Date.now() < this.validUntil ? this.token : null;
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    try {
      const token = await this.store.acquire(this.node, this.leaseMs);
      if (token !== null) this.validUntil = started + this.leaseMs;
      this.set(token);
    } catch (err) {
      this.logger.warn(`Beat lease: ${(err as Error).message}`);
      if (Date.now() >= this.validUntil) this.set(null);
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.attempt(), this.renewMs);
      this.timer.unref?.();
    }
  }

  private set(token: number | null): void {
    if (token === this.token) return;
    const was = this.token;
    this.token = token;
    if (token !== null)
      this.logger.log(`Beat: ${this.node} leads (token ${token}${was !== null ? `, was ${was}` : ''}).`);
    else this.logger.log(`Beat: ${this.node} no longer leads (token ${was}).`);
    this.onChange(token);
  }

  /** Stops trying and gives the lease up, so another node takes over at its next attempt. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const token = this.token;
    this.token = null;
    if (token !== null) await this.store.release(this.node, token).catch(() => undefined);
  }
}
