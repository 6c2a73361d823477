import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Reads a captured Celery message from ../shared/vectors (the ground truth beside this repository). */
export function loadVector<T = any>(file: string): T { // eslint-disable-line @typescript-eslint/no-explicit-any
  const dir = process.env.TASKQUEUE_VECTORS_DIR ?? join(__dirname, '..', '..', '..', '..', '..', 'shared', 'vectors');
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as T;
}
