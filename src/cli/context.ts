/** What every CLI command shares: how to turn global flags into the validated config. */
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config/index.ts';

export interface GlobalFlags {
  config?: string;
  set?: string[];
}

/** Adds `--config` and `--set` to a command (each command takes them, so they may follow its name). */
export function withConfigFlags(command: Command): Command {
  return command
    .option('-c, --config <file>', 'JSON config file')
    .option(
      '--set <key=value>',
      'override one config key, e.g. --set gateway.port=8081 (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    );
}

/** Loads the config from the command's flags (and its parents'), the environment and the file. */
export function configFromCommand(command: Command): Readonly<Config> {
  const flags = command.optsWithGlobals<GlobalFlags>();
  return loadConfig({ file: flags.config, overrides: flags.set });
}
