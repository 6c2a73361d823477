import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the captured Celery 5.2.6 / kombu 5.2.4 messages live: facts the protocol is tested against. */
export const CELERY_FIXTURES = join(__dirname, '..', 'fixtures', 'celery');

/** Reads one captured Celery message from test/fixtures/celery. */
export function loadVector<T = any>(file: string): T {
  return JSON.parse(readFileSync(join(CELERY_FIXTURES, file), 'utf8')) as T;
}
