import { Logger } from '@nestjs/common';
import { Consumer } from '../brokers/broker.interface';
import { TaskSlots } from './task.slots';
import { TaskWaits } from './task.waits';
import { RevokedSet } from './revoked.set';

/** Stopping the dispatcher: the broker consumer is stopped first, then jobs are finished or given back. */
export class TaskDrain {
  constructor(
    private readonly slots: TaskSlots,
    private readonly waits: TaskWaits,
    private readonly revoked: RevokedSet,
    private readonly logger: Logger,
  ) {}

  /**
   * Warm stop: give back what has not started, wait up to `timeoutMs` for what runs. Resolves to the
   * number of tasks still running at the deadline (their messages stay unacked, so the broker gives
   * them to another worker).
   */
  async drain(consumer: Consumer | null, timeoutMs: number): Promise<number> {
    await consumer?.stop();
    await this.giveBack();
    const inFlight = this.slots.inFlight;
    if (inFlight.size > 0) {
      this.logger.log(`Waiting up to ${timeoutMs / 1000}s for ${inFlight.size} running task(s) to finish…`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight.keys()]),
        new Promise((r) => (timer = setTimeout(r, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    await Promise.allSettled([...this.slots.settling]);
    this.revoked.flush();
    return inFlight.size;
  }

  /** Cold stop: give every message back now, running or not. */
  async abort(consumer: Consumer | null): Promise<void> {
    await consumer?.stop();
    await this.giveBack();
    await Promise.all(
      [...this.slots.inFlight.values()]
        .filter((j) => !j.acked)
        .map((j) => j.delivery.reject(true).catch(() => undefined)),
    );
    this.revoked.flush();
  }

  private async giveBack(): Promise<void> {
    const scheduled = this.waits.scheduled;
    const jobs = [...this.slots.waiting.splice(0), ...scheduled.values()];
    for (const t of scheduled.keys()) clearTimeout(t);
    scheduled.clear();
    await Promise.all(jobs.filter((j) => !j.acked).map((j) => j.delivery.reject(true).catch(() => undefined)));
  }
}
