import { Argument, Command } from 'commander';
import { CONTROL_COMMANDS } from './remote-commands.table';
import { addRemoteFlags, RemoteFlags, runRemoteCommand } from './remote-command.runner';

/** `taskq control <action> [args…]`: tells workers (ours and Python Celery's) to act, like `celery control`. */
export function registerControlCommand(program: Command, out: (line: string) => void): void {
  const cmd = program
    .command('control')
    .description('remote-control the workers (ours and Python Celery workers), like celery control')
    .addArgument(new Argument('<action>', 'what to do').choices(Object.keys(CONTROL_COMMANDS)))
    .argument('[args...]', 'arguments of the action, e.g. rate_limit tasks.add 10/m; pool_grow 2')
    // `time_limit t -1` must reach the worker (which refuses it with a reason), not be read as a flag.
    .allowUnknownOption();
  addRemoteFlags(cmd).action(async (action: string, words: string[], o: RemoteFlags) => {
    await runRemoteCommand('control', program, cmd, action, CONTROL_COMMANDS[action], words, o, out);
  });
}
