import type { Command } from 'commander';
import { redactConfig } from '../../config/index.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

export function registerConfigCommand(program: Command): void {
  withConfigFlags(
    program
      .command('config')
      .description(
        'print the effective configuration (defaults < file < environment < --set), secrets redacted',
      ),
  ).action((_options, command: Command) => {
    const config = configFromCommand(command);
    process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
  });
}
