import { CanActivate, Type } from '@nestjs/common';
import { TaskMonitorOptions } from '../monitor/monitor.options';

/** Options of `TaskQueueDashboardModule.register()`. */
export interface TaskQueueDashboardOptions {
  /** Where the dashboard is mounted in the app. @defaultValue 'dashboard' */
  path?: string;
  /** `user:password` pairs allowed in (HTTP Basic, as Flower's `--basic-auth`). @defaultValue none (no basic auth) */
  basicAuth?: string[];
  /** Hide and refuse every action (revoke, purge, …): a view only. @defaultValue false */
  readOnly?: boolean;
  /** A Nest guard run on every dashboard route after basic auth (your app's own auth). @defaultValue none */
  guard?: Type<CanActivate>;
  /** Monitor options: history bound, purge of offline workers, intervals. @defaultValue see TaskMonitorOptions */
  monitor?: TaskMonitorOptions;
}

export const DASHBOARD_OPTIONS = Symbol('TASKQ_DASHBOARD_OPTIONS');
export const DASHBOARD_USER_GUARD = Symbol('TASKQ_DASHBOARD_USER_GUARD');
