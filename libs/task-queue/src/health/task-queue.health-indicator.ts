import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { BacklogCheckOptions, ReachableCheckOptions, WorkersCheckOptions } from './health.options';
import { ProbeOutcome, TaskQueueProbe } from './task-queue.probe';

/**
 * Task-queue checks for `@nestjs/terminus`'s `HealthCheckService.check([...])`, on the broker, backend
 * and TaskControl of the global TaskQueueModule. Each resolves to `{ [key]: { status: 'up' | 'down', … } }`;
 * a down one makes terminus answer 503 with the key and its message (no URL password).
 *
 * @example () => this.taskQueue.isBrokerUp('broker')
 * @example () => this.taskQueue.hasWorkers('workers', { queue: 'emails', min: 2 })
 * @example () => this.taskQueue.isBacklogUnder('backlog', { queue: 'emails', max: 10_000 })
 */
@Injectable()
export class TaskQueueHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(TaskQueueProbe) private readonly probe: TaskQueueProbe,
  ) {}

  /** The broker answers a round trip within `timeoutMs`. */
  async isBrokerUp<const K extends string>(key: K, options?: ReachableCheckOptions): Promise<HealthIndicatorResult<K>> {
    return this.report(key, await this.probe.checkBroker(options));
  }

  /** The result backend answers a read within `timeoutMs`. */
  async isBackendUp<const K extends string>(
    key: K,
    options?: ReachableCheckOptions,
  ): Promise<HealthIndicatorResult<K>> {
    return this.report(key, await this.probe.checkBackend(options));
  }

  /** At least `min` workers (ours or Python Celery's) reply that they consume `queue`. */
  async hasWorkers<const K extends string>(key: K, options?: WorkersCheckOptions): Promise<HealthIndicatorResult<K>> {
    return this.report(key, await this.probe.checkWorkers(options));
  }

  /** At most `max` messages wait in `queue`. */
  async isBacklogUnder<const K extends string>(
    key: K,
    options: BacklogCheckOptions,
  ): Promise<HealthIndicatorResult<K>> {
    return this.report(key, await this.probe.checkBacklog(options));
  }

  private report<K extends string>(key: K, o: ProbeOutcome): HealthIndicatorResult<K> {
    const check = this.health.check(key);
    return o.up ? check.up(o.data) : check.down(o.data);
  }
}
