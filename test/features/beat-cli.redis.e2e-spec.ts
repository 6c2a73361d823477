import Redis from 'ioredis';
import { buildProgram } from 'nestjs-celery/internal/cli/taskq.program';
import { inspector, queueKeys } from '../support/redis-test.helpers';
import { suiteDb, suiteRedisUrl } from '../support/test-env';
import { uniqueName } from '../support/wait';

/** `taskq schedule …` against Redis: what a person types and reads. */
describe('taskq schedule (Redis)', () => {
  const URL = suiteRedisUrl('beat');
  const every = uniqueName('cli-every');
  const nightly = uniqueName('cli-nightly');
  let r: Redis;

  const taskq = async (...args: string[]): Promise<string[]> => {
    const out: string[] = [];
    await buildProgram((l) => out.push(l)).parseAsync(['node', 'taskq', '-b', URL, ...args]);
    return out;
  };

  beforeAll(() => {
    r = inspector(suiteDb('beat'));
  });
  afterAll(async () => {
    for (const n of [every, nightly]) await taskq('schedule', 'remove', n).catch(() => undefined);
    await r.del(...queueKeys(`${every}-q`));
    await r.quit();
  });

  it('add, list, pause, resume and remove entries', async () => {
    expect(
      await taskq('schedule', 'add', every, '--task', 'py.add', '--args', '[2, 3]', '--every', '5', '-Q', `${every}-q`),
    ).toEqual([expect.stringMatching(new RegExp(`^Entry ${every}: every 5s, next run \\d{4}-`))]);
    expect(
      (
        await taskq(
          'schedule',
          'add',
          nightly,
          '--task',
          'db.vacuum',
          '--cron',
          '30 2 * * *',
          '--tz',
          'Europe/Berlin',
          '--missed',
          'skip',
        )
      )[0],
    ).toMatch(/cron "30 2 \* \* \*" Europe\/Berlin, next run .*T0[01]:30:00\.000Z/);

    const table = await taskq('schedule', 'list');
    expect(table[0]).toMatch(/^NAME +TASK +SCHEDULE +NEXT RUN +LAST RUN +RUNS +PAUSED$/);
    expect(table.find((l) => l.startsWith(every))).toMatch(/py\.add +every 5s +\S+ +- +0 +false/);
    expect(table[table.length - 1]).toMatch(/^Leader: /);

    expect(await taskq('schedule', 'pause', every)).toEqual([`Entry ${every}: paused.`]);
    const rows = (await taskq('schedule', 'list', '--json')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.find((x) => x.name === every)).toMatchObject({ paused: true, next: '-', schedule: 'every 5s' });
    expect(rows[rows.length - 1]).toHaveProperty('leader');

    expect(await taskq('schedule', 'resume', every)).toEqual([`Entry ${every}: resumed.`]);
    expect(await taskq('schedule', 'remove', every)).toEqual([`Entry ${every}: removed.`]);
    await expect(taskq('schedule', 'remove', every)).rejects.toThrow(`No periodic entry named "${every}"`);
    await expect(taskq('schedule', 'add', 'bad', '--task', 't', '--cron', '0 0 * * * *')).rejects.toThrow(
      /must have 5 fields/,
    );
  });
});
