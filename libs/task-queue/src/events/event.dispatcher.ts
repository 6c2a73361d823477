import { loadavg } from 'node:os';
import { Logger } from '@nestjs/common';
import { Broker } from '../brokers/broker.interface';
import {
  EVENT_EXCHANGE,
  buildEventMessage,
  eventBody,
  eventRoutingKey,
  softwareFields,
} from '../protocol/event-message';
import {
  taskErrorFields,
  taskReceivedFields,
  taskRejectedFields,
  taskRevokedFields,
  taskStartedFields,
  taskSucceededFields,
  workerFields,
} from '../protocol/event-fields';
import { TaskEvent, TaskEventName, TaskEvents } from './task.events';
import { LamportClock } from './lamport.clock';

const TASK_EVENT_TYPES: TaskEventName[] = [
  'received',
  'started',
  'succeeded',
  'failed',
  'retried',
  'revoked',
  'rejected',
];

/** Seconds between worker-heartbeat events; monitors consider a worker gone after twice this. */
const HEARTBEAT_FREQ = 2.0;

/**
 * Sends Celery's monitoring events for one worker: worker-online, a worker-heartbeat every 2 s and
 * worker-offline always (cheap, and how `celery events` and Flower see the worker), and task-* events
 * when task events are on (Celery's `-E`). A failed send is logged once, never thrown at a task.
 */
export class EventDispatcher {
  private readonly logger = new Logger('TaskQueueEvents');
  private timer: NodeJS.Timeout | null = null;
  private failing = false;

  private readonly onTask = (e: TaskEvent) => this.onTaskEvent(e);
  private taskEventsOn = false;

  constructor(
    private readonly broker: Broker,
    private readonly hostname: string,
    private readonly clock: LamportClock,
    private readonly version: string,
    private readonly stats: () => { active: number; processed: number },
    private readonly events: TaskEvents,
    taskEvents: boolean,
  ) {
    this.taskEvents = taskEvents;
  }

  /** Whether task-* events are sent (Celery's `-E`; `enable_events`/`disable_events` switch it). Off costs nothing per task. */
  get taskEvents(): boolean {
    return this.taskEventsOn;
  }

  set taskEvents(on: boolean) {
    if (on === this.taskEventsOn || !this.supported) return;
    this.taskEventsOn = on;
    for (const type of TASK_EVENT_TYPES) {
      if (on) this.events.on(type, this.onTask);
      else this.events.off(type, this.onTask);
    }
  }

  get supported(): boolean {
    return typeof this.broker.publishToExchange === 'function';
  }

  start(): void {
    if (!this.supported) return;
    void this.sendWorker('worker-online');
    this.timer = setInterval(() => void this.sendWorker('worker-heartbeat'), HEARTBEAT_FREQ * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.taskEvents = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.supported) await this.sendWorker('worker-offline');
  }

  /** The heartbeat a `heartbeat` control command asks for (freq 5, software fields only). */
  heartbeatOnRequest(): Promise<void> {
    return this.send('worker-heartbeat', { freq: 5, ...softwareFields(this.version) });
  }

  /** Maps an in-process task event onto Celery's task-* event. */
  private onTaskEvent(e: TaskEvent): void {
    const r = e.request;
    switch (e.type) {
      case 'received':
        void this.send('task-received', taskReceivedFields(r));
        break;
      case 'started':
        void this.send('task-started', taskStartedFields(r.id));
        break;
      case 'succeeded':
        void this.send('task-succeeded', taskSucceededFields(r.id, e.result, e.runtime ?? 0));
        break;
      case 'failed':
        void this.send('task-failed', taskErrorFields(r.id, e.error));
        break;
      case 'retried':
        void this.send('task-retried', taskErrorFields(r.id, e.error));
        break;
      case 'revoked':
        void this.send('task-revoked', taskRevokedFields(r.id, e.reason));
        break;
      case 'rejected':
        void this.send('task-rejected', taskRejectedFields(r.id));
        break;
    }
  }

  private sendWorker(type: string): Promise<void> {
    const { active, processed } = this.stats();
    const load = loadavg().map((l) => Math.round(l * 100) / 100);
    return this.send(type, workerFields(HEARTBEAT_FREQ, active, processed, load, this.version));
  }

  private async send(type: string, fields: Record<string, unknown>): Promise<void> {
    const body = eventBody(type, this.hostname, this.clock.forward(), fields);
    try {
      await this.broker.publishToExchange!(
        EVENT_EXCHANGE,
        eventRoutingKey(type),
        buildEventMessage(this.hostname, body),
      );
      if (this.failing) this.logger.log('Events are being sent again.');
      this.failing = false;
    } catch (err) {
      if (!this.failing)
        this.logger.warn(
          `Could not send the ${type} event (${(err as Error).message}); monitors may show this worker as offline until the broker is back.`,
        );
      this.failing = true;
    }
  }
}
