import type { Command } from 'commander';
import { ENV_BINDINGS, redactConfig } from '../../config/index.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

export function registerConfigCommand(program: Command): void {
  withConfigFlags(
    program
      .command('config')
      .description(
        'print the effective configuration (defaults < file < environment < --set), secrets redacted',
      )
      .option('--env', 'list every environment variable and the key it sets instead'),
  ).action((options: { env?: boolean }, command: Command) => {
    if (options.env) {
      const width = Math.max(...ENV_BINDINGS.map((b) => b.env.length));
      for (const binding of ENV_BINDINGS) {
        process.stdout.write(`${binding.env.padEnd(width)}  ${binding.path} (${binding.kind})\n`);
      }
      return;
    }
    const config = configFromCommand(command);
    process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
  });
}
