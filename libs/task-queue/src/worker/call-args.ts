import { TaskDefinition } from '../registry/task-definition';

/**
 * Maps Celery's `(args, kwargs)` onto the method's positional parameters, by name, with Python's rules
 * (an unknown keyword or a keyword that repeats a positional argument is a TypeError), and puts the
 * TaskContext at its @CurrentTask position.
 */
export function toCallArgs(
  def: TaskDefinition,
  args: unknown[],
  kwargs: Record<string, unknown>,
  ctx: unknown,
): unknown[] {
  const ci = def.contextIndex;
  const names = ci === null ? def.paramNames : def.paramNames.filter((_, i) => i !== ci);
  const out = [...args];
  for (const key of Object.keys(kwargs)) {
    const index = names.indexOf(key);
    if (index < 0) throw new TypeError(`${def.name}() got an unexpected keyword argument '${key}'`);
    if (index < args.length) throw new TypeError(`${def.name}() got multiple values for argument '${key}'`);
    out[index] = kwargs[key];
  }
  if (ci !== null) {
    while (out.length < ci) out.push(undefined);
    out.splice(ci, 0, ctx);
  }
  return out;
}
