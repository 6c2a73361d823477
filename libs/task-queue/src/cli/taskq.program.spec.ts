import { Command } from 'commander';
import { buildProgram } from './taskq.program';

/** What `taskq <name> --help` prints, commander's line wrapping undone. */
function help(program: Command, name: string): string {
  const cmd = program.commands.find((c) => c.name() === name);
  if (!cmd) throw new Error(`no command ${name}`);
  // outputHelp, not helpInformation: the exit codes are added with addHelpText('after').
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s) });
  cmd.outputHelp();
  return text.replace(/\s+/g, ' ');
}

describe('taskq program (help texts, no broker needed)', () => {
  const saved = process.env.TASKQUEUE_DEFAULT_QUEUE;
  afterEach(() => {
    if (saved === undefined) delete process.env.TASKQUEUE_DEFAULT_QUEUE;
    else process.env.TASKQUEUE_DEFAULT_QUEUE = saved;
  });

  it('call and result list the exit codes', () => {
    const program = buildProgram(() => undefined);
    for (const name of ['call', 'result'])
      expect(help(program, name)).toMatch(
        /Exit codes: 0 SUCCESS, 1 FAILURE \(or an error\), 2 REVOKED, 3 --wait timed out/,
      );
  });

  it('-Q of call, purge and dead-letters shows TASKQUEUE_DEFAULT_QUEUE, else celery, as its default', () => {
    process.env.TASKQUEUE_DEFAULT_QUEUE = 'emails';
    const program = buildProgram(() => undefined);
    for (const name of ['call', 'purge', 'dead-letters']) expect(help(program, name)).toContain('(default: "emails")');
    delete process.env.TASKQUEUE_DEFAULT_QUEUE;
    expect(
      help(
        buildProgram(() => undefined),
        'call',
      ),
    ).toContain('(default: "celery")');
  });
});
