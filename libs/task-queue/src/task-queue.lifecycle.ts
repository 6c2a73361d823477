import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Broker } from './brokers/broker.interface';
import { ResultBackend } from './backends/result-backend.interface';
import { TASK_QUEUE_BROKER, TASK_QUEUE_RESULT_BACKEND } from './task-queue.constants';

/** Closes the broker and backend connections when the app shuts down (after the worker has drained). */
@Injectable()
export class TaskQueueLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(TASK_QUEUE_BROKER) private readonly broker: Broker,
    @Inject(TASK_QUEUE_RESULT_BACKEND) private readonly backend: ResultBackend,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.broker.close(), this.backend.close()]);
  }
}
