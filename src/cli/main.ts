/** `croupier <command>`: the command-line entry point. */
import { Command, CommanderError } from 'commander';
import { CroupierError } from '../errors/index.ts';
import { exitWithParent } from '../jobs/child-process.ts';
import { registerCommands } from './commands/index.ts';

export function buildProgram(): Command {
  const program = new Command('croupier')
    .description('real-time decision engine: learns from a live clickstream, deals carousels over WebSockets')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // A command a job run spawned (croupier train, shadow, models watch) ends with the run's process.
  exitWithParent();
  // Output piped into `head` and closed early is not an error of croupier's.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof CroupierError) {
      console.error(`croupier: ${error.code}: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(error);
    process.exitCode = 1;
  }
}
