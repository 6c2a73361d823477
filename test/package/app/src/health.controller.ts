import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { TaskQueueHealthIndicator } from 'nestjs-celery/health';

/** `GET /health` through the package's subpath export `nestjs-celery/health` and the app's own terminus. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly taskQueue: TaskQueueHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.taskQueue.isBrokerUp('broker'),
      () => this.taskQueue.isBackendUp('backend'),
      () => this.taskQueue.hasWorkers('workers', { min: 1 }),
    ]);
  }
}
