import { CeleryEvent } from './celery-event';
import { TaskFilter, TaskRecord } from './task-record';

/** Where task records live: Redis (survives a dashboard restart) or memory (tests, memory:// brokers). */
export interface HistoryStore {
  /** Applies one task-* event. */
  record(e: CeleryEvent): Promise<void>;
  /** Merges fields from elsewhere (the result backend) into an existing record. */
  merge(id: string, fields: Record<string, string>): Promise<void>;
  get(id: string): Promise<TaskRecord | null>;
  /** Newest first. */
  list(filter: TaskFilter): Promise<TaskRecord[]>;
  /** Tasks held now (at most the bound). */
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface HistoryBound {
  /** Tasks kept; the oldest are dropped on write past it. */
  maxTasks: number;
  /** Seconds a task's record lives after its last event. */
  ttlSeconds: number;
  /** Longest string kept for args, kwargs, result, traceback. */
  maxField: number;
}
