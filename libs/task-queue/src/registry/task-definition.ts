import { SharedTaskOptions } from '../options/shared-task-options';

/** A discovered task: where it lives and how to call it. */
export interface TaskDefinition {
  name: string;
  options: SharedTaskOptions;
  /** `ClassName.method`, for messages about this task. */
  source: string;
  /** The provider instance (`this` of the method and of its hooks). */
  instance: object;
  /** Parameter names in order (null where a parameter has no plain name). */
  paramNames: (string | null)[];
  /** Index of the @CurrentTask parameter, or null. */
  contextIndex: number | null;
  /** Calls the method on its provider instance with the final positional arguments. */
  invoke(args: unknown[]): unknown;
}
