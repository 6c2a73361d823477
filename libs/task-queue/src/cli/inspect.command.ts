import { Argument, Command } from 'commander';
import { INSPECT_COMMANDS } from './remote-commands.table';
import { addRemoteFlags, RemoteFlags, runRemoteCommand } from './remote-command.runner';

/** `taskq inspect <action> [args…]`: what workers (ours and Python Celery's) hold, like `celery inspect`. */
export function registerInspectCommand(program: Command, out: (line: string) => void): void {
  const cmd = program
    .command('inspect')
    .description('inspect the workers at run time (ours and Python Celery workers), like celery inspect')
    .addArgument(new Argument('<action>', 'what to ask').choices(Object.keys(INSPECT_COMMANDS)))
    .argument('[args...]', 'arguments of the action (query_task: task ids; registered: task attributes)');
  addRemoteFlags(cmd).action(async (action: string, words: string[], o: RemoteFlags) => {
    await runRemoteCommand('inspect', program, cmd, action, INSPECT_COMMANDS[action], words, o, out);
  });
}
