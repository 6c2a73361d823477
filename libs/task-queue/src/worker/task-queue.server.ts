import { Inject, Injectable, Logger } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { Broker } from '../brokers/broker.interface';
import { ResultBackend } from '../backends/result-backend.interface';
import { TASK_QUEUE_BROKER, TASK_QUEUE_CONFIG, TASK_QUEUE_RESULT_BACKEND } from '../task-queue.constants';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TaskRegistry } from '../registry/task.registry';
import { ConfigurationError } from '../errors';
import { TaskExecutor } from './task.executor';
import { TaskDispatcher } from './task.dispatcher';
import { TaskEvents } from '../events/task.events';
import { RevokedSet } from './revoked.set';
import { LamportClock } from '../events/lamport.clock';
import { EventDispatcher } from '../events/event.dispatcher';
import { WorkerControl } from '../control/worker-control';
import { Mailbox } from '../control/mailbox';
import { workerBanner } from './worker-banner';
import { connectOnStartup } from '../reliability/startup.connector';

/** The library version shown in the banner. */
export const TASK_QUEUE_VERSION = '0.1.0';
/** Transport id, for hybrid apps that bind handlers to this transport. */
export const TASK_QUEUE_TRANSPORT = Symbol('TASK_QUEUE_TRANSPORT');

/**
 * The worker: a Nest microservice transport strategy that consumes the configured queues and runs
 * the registered @SharedTask methods. Consumption starts only in listen(), so an app that imports
 * TaskQueueModule without running this strategy never consumes.
 *
 * Signals (when `worker.handleSignals`): the first SIGTERM/SIGINT is a warm shutdown (stop taking
 * tasks, finish running ones within `worker.shutdownTimeout`, give back the rest); a second one is
 * a cold shutdown (give everything back now and exit).
 */
@Injectable()
export class TaskQueueServer extends Server implements CustomTransportStrategy {
  override transportId = TASK_QUEUE_TRANSPORT;
  protected override readonly logger = new Logger('TaskQueueWorker');
  private consumer: TaskDispatcher | null = null;
  private dispatcher: EventDispatcher | null = null;
  private mailbox: Mailbox | null = null;
  private closing: Promise<void> | null = null;
  private readonly signalHandlers: Array<[NodeJS.Signals, () => void]> = [];
  private stoppedBySignal = false;

  constructor(
    @Inject(TASK_QUEUE_BROKER) private readonly broker: Broker,
    @Inject(TASK_QUEUE_RESULT_BACKEND) private readonly backend: ResultBackend,
    @Inject(TASK_QUEUE_CONFIG) private readonly config: ResolvedTaskQueueOptions,
    private readonly registry: TaskRegistry,
    private readonly executor: TaskExecutor,
    private readonly events: TaskEvents,
  ) {
    super();
  }

  /** Tasks running now (0 when not listening). */
  get active(): number {
    return this.consumer?.active ?? 0;
  }

  /** Messages this worker handed back to the broker's delayed store so far. */
  get deferred(): number {
    return this.consumer?.deferred ?? 0;
  }

  /** Tasks this worker holds in memory until a time (ETAs under a second, rate-limited starts). */
  get held(): number {
    return this.consumer?.held ?? 0;
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await connectOnStartup(this.broker, this.backend, this.config, this.logger);
      const revoked = new RevokedSet(this.config.worker.stateDb);
      const consumer = new TaskDispatcher(this.broker, this.registry, this.executor, this.events, revoked, this.config);
      this.consumer = consumer;
      const clock = new LamportClock();
      const hostname = this.config.worker.hostname;
      this.dispatcher = new EventDispatcher(
        this.broker,
        hostname,
        clock,
        TASK_QUEUE_VERSION,
        () => ({ active: consumer.active, processed: consumer.processedCount }),
        this.events,
        this.config.worker.sendTaskEvents,
      );
      const dispatcher = this.dispatcher;
      const control = new WorkerControl(
        this.config,
        this.registry,
        consumer,
        clock,
        dispatcher,
        this.broker.describe(),
        () => this.requestShutdown('remote control'),
      );
      this.mailbox = new Mailbox(this.broker, hostname, control, clock);
      const listening = await this.mailbox.start();
      if (!listening)
        this.logger.warn(
          `The ${this.broker.transport} broker has no exchanges: remote control (celery inspect/control, revoke) is off.`,
        );
      this.warnAboutConsumerTimeout(consumer);
      this.checkGlobalRateLimits(consumer);
      await consumer.start();
      dispatcher.start();
    } catch (err) {
      this.logger.error(`Worker could not start: ${(err as Error).message}`);
      return callback(err);
    }
    this.logger.log(
      workerBanner(
        this.config,
        this.broker.describe(),
        this.backend.describe(),
        this.registry.appNames(),
        TASK_QUEUE_VERSION,
      ),
    );
    this.logger.log(`${this.config.worker.hostname} ready.`);
    if (this.config.worker.handleSignals) this.installSignalHandlers();
    callback();
  }

  /**
   * Revokes tasks on this worker: they will not start; with `terminate`, running ones are abandoned
   * (their AbortSignal fires). Remote control calls this for Celery's `revoke` broadcast.
   */
  revoke(ids: string[], terminate = false): void {
    this.consumer?.revoke(ids, terminate);
  }

  /** A shared rate limit needs a broker that can count for every worker; refuse to start without one. */
  private checkGlobalRateLimits(consumer: TaskDispatcher): void {
    if (this.broker.reserveRateSlot) return;
    const tasks = this.registry
      .all()
      .filter((d) => consumer.optionsFor(d.name).globalRateLimit)
      .map((d) => d.name);
    if (tasks.length) {
      throw new ConfigurationError(
        `globalRateLimit is set on ${tasks.join(', ')}, but the ${this.broker.transport} broker cannot count starts for all workers. ` +
          'Use a Redis broker, or rateLimit (per worker) instead.',
      );
    }
  }

  /** Tasks whose time limit (or absence of one) outlasts the broker's delivery timeout get a warning at start. */
  private warnAboutConsumerTimeout(consumer: TaskDispatcher): void {
    if (!this.broker.checkConsumerTimeout) return;
    for (const def of this.registry.all()) {
      const limit = consumer.optionsFor(def.name).timeLimit;
      if (!limit) continue;
      const warning = this.broker.checkConsumerTimeout(limit, `Task ${def.name}`);
      if (warning) this.logger.warn(warning);
    }
  }

  /** Warm shutdown. Nest calls it from app.close(); the module closes connections afterwards. */
  close(): Promise<void> {
    this.closing ??= this.warmStop();
    return this.closing;
  }

  private async warmStop(): Promise<void> {
    this.removeSignalHandlers();
    if (!this.consumer) return;
    this.logger.log('Warm shutdown: no new tasks; waiting for running ones.');
    await this.mailbox?.close().catch(() => undefined);
    const left = await this.consumer.drain(this.config.worker.shutdownTimeout * 1000);
    if (left > 0)
      this.logger.warn(
        `${left} task(s) still running at the deadline: their messages stay unacked and will be delivered again.`,
      );
    await this.dispatcher?.stop();
  }

  /** What a first signal, or the `shutdown` control command, does: warm stop, close connections, exit. */
  private requestShutdown(why: string): void {
    this.stoppedBySignal = true;
    this.logger.log(`Shutdown requested (${why}): warm shutdown.`);
    void this.close()
      .then(() => Promise.all([this.broker.close(), this.backend.close()]))
      .then(() => process.exit(0));
  }

  private installSignalHandlers(): void {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        this.requestShutdown(`${signal}; send it again for a cold shutdown`);
      } else {
        this.logger.warn(`${signal} received again: cold shutdown, giving every message back.`);
        void (this.consumer?.abort() ?? Promise.resolve()).finally(() => process.exit(1));
      }
    };
    for (const signal of ['SIGTERM', 'SIGINT'] as NodeJS.Signals[]) {
      const handler = () => onSignal(signal);
      process.on(signal, handler);
      this.signalHandlers.push([signal, handler]);
    }
  }

  /**
   * When a signal started the shutdown, the handlers stay so that a second signal reaches the cold
   * path; when Nest closes us (tests, hybrid apps), they go.
   */
  private removeSignalHandlers(): void {
    if (this.stoppedBySignal) return;
    for (const [s, h] of this.signalHandlers.splice(0)) process.off(s, h);
  }

  on(): never {
    throw new Error('TaskQueueServer has no transport events to listen to.');
  }

  unwrap<T>(): T {
    return this.broker as T;
  }
}
