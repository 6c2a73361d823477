import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { TaskMonitor } from '../monitor/task-monitor.service';

/** Starts the monitor once the app is up and stops it first on shutdown (before the broker closes). */
@Injectable()
export class DashboardMonitorHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('TaskQueueDashboard');

  constructor(private readonly monitor: TaskMonitor) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.monitor.start();
    } catch (err) {
      // A dashboard that cannot receive events still serves queues and results: say why, do not crash the app.
      this.logger.warn(`The dashboard receives no events: ${(err as Error).message}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.monitor.stop();
  }
}
