import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BrokerUnavailableFilter, TaskQueueDashboardModule, TaskQueueModule, optionsFromEnv } from 'nestjs-celery';
import { TaskQueueHealthModule } from 'nestjs-celery/health';
import { TasksController } from './tasks.controller';
import { API_HEALTH_OPTIONS, apiHealthFromEnv, HealthController } from './health.controller';

@Module({
  imports: [
    TaskQueueModule.forRoot({ ...optionsFromEnv(), isGlobal: true }),
    // The monitoring dashboard at /dashboard. DASHBOARD_BASIC_AUTH=user:pass[,user2:pass2] locks it; DASHBOARD_READ_ONLY=true hides actions.
    TaskQueueDashboardModule.register({
      path: 'dashboard',
      basicAuth: process.env.DASHBOARD_BASIC_AUTH?.split(',').filter(Boolean),
      readOnly: process.env.DASHBOARD_READ_ONLY === 'true',
    }),
    // GET /health for readiness probes (terminus): broker, backend, workers on the queue, backlog.
    TaskQueueHealthModule,
  ],
  controllers: [TasksController, HealthController],
  // A broker outage answers 503 with Retry-After, not a generic 500.
  providers: [
    { provide: APP_FILTER, useValue: new BrokerUnavailableFilter() },
    { provide: API_HEALTH_OPTIONS, useValue: apiHealthFromEnv() },
  ],
})
export class ApiModule {}
