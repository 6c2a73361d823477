import { routingMatches } from './exchange-routing';

describe('exchange routing', () => {
  it.each([
    ['fanout', 'anything', 'x.y', true],
    ['direct', 'oid-1', 'oid-1', true],
    ['direct', 'oid-1', 'oid-2', false],
    ['topic', '#', 'task.multi', true],
    ['topic', 'worker.#', 'worker.heartbeat', true],
    ['topic', 'worker.#', 'worker', true],
    ['topic', 'worker.#', 'task.sent', false],
    ['topic', 'task.*', 'task.succeeded', true],
    ['topic', 'task.*', 'task.a.b', false],
    ['topic', '*.heartbeat', 'worker.heartbeat', true],
  ] as const)('%s binding %s matches %s: %s', (type, binding, key, expected) => {
    expect(routingMatches(type, binding, key)).toBe(expected);
  });
});
