import { formatNodeReply, nodesOnline, prettyReply } from './remote-reply.format';
import { compileArguments, CONTROL_COMMANDS, INSPECT_COMMANDS } from './remote-commands.table';

describe('remote reply format (celery/bin/base.py pretty)', () => {
  it('prints {ok} and {error} texts indented under the node', () => {
    expect(formatNodeReply('w1@h', { ok: 'pong' })).toBe('-> w1@h: OK\n        pong');
    expect(formatNodeReply('w1@h', { error: 'unknown task' })).toBe('-> w1@h: ERROR\n        unknown task');
  });

  it('prints lists as `* item` with Python reprs, or `- empty -`', () => {
    expect(prettyReply(['tasks.add', 'tasks.mul']).body).toBe('* tasks.add\n* tasks.mul');
    expect(prettyReply([{ id: 'x', n: 1 }]).body).toBe("* {'id': 'x', 'n': 1}");
    expect(formatNodeReply('w', [])).toBe('-> w: OK\n    - empty -');
  });

  it('prints other objects as JSON with sorted keys, indented 4', () => {
    expect(prettyReply({ b: 1, a: { d: 2, c: 3 } }).body).toBe(JSON.stringify({ a: { c: 3, d: 2 }, b: 1 }, null, 4));
  });

  it('counts nodes as Celery does', () => {
    expect(nodesOnline(1)).toBe('\n1 node online.');
    expect(nodesOnline(3)).toBe('\n3 nodes online.');
  });
});

describe('remote command arguments (celery/bin/control.py _compile_arguments)', () => {
  it('names and converts positional arguments', () => {
    expect(compileArguments('rate_limit', CONTROL_COMMANDS.rate_limit, ['tasks.add', '10/m'])).toEqual({
      task_name: 'tasks.add',
      rate_limit: '10/m',
    });
    expect(compileArguments('time_limit', CONTROL_COMMANDS.time_limit, ['t', '1.5', '-1'])).toEqual({
      task_name: 't',
      soft: 1.5,
      hard: -1,
    });
    expect(compileArguments('pool_grow', CONTROL_COMMANDS.pool_grow, [])).toEqual({});
    expect(compileArguments('autoscale', CONTROL_COMMANDS.autoscale, ['10', '2'])).toEqual({ max: 10, min: 2 });
  });

  it('collects variadic ids', () => {
    expect(compileArguments('revoke', CONTROL_COMMANDS.revoke, ['a', 'b'])).toEqual({ task_id: ['a', 'b'] });
    expect(compileArguments('terminate', CONTROL_COMMANDS.terminate, ['SIGKILL', 'a'])).toEqual({
      signal: 'SIGKILL',
      task_id: ['a'],
    });
    expect(compileArguments('query_task', INSPECT_COMMANDS.query_task, ['a'])).toEqual({ ids: ['a'] });
  });

  it('refuses a bad number, a missing or an extra argument, showing the signature', () => {
    expect(() => compileArguments('pool_grow', CONTROL_COMMANDS.pool_grow, ['two'])).toThrow(
      "pool_grow: n must be an integer, got 'two'.",
    );
    expect(() => compileArguments('rate_limit', CONTROL_COMMANDS.rate_limit, ['tasks.add'])).toThrow(
      'Usage: rate_limit <task_name> <rate_limit (e.g., 5/s | 5/m | 5/h)>',
    );
    expect(() => compileArguments('ping', INSPECT_COMMANDS.ping, ['x'])).toThrow('takes at most 0 argument(s)');
  });
});
