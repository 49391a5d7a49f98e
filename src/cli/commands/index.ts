import type { Command } from 'commander';
import { registerBrokerCommand } from './broker.ts';
import { registerConfigCommand } from './config.ts';
import { registerLoadtestCommand } from './loadtest.ts';
import { registerRegistryCommand } from './registry.ts';
import { registerServeCommand } from './serve.ts';
import { registerSimulateCommand } from './simulate.ts';
import { registerStreamCommand } from './stream.ts';

/** Every `croupier <command>`; each module adds one command with its own --help. */
export function registerCommands(program: Command): void {
  registerBrokerCommand(program);
  registerConfigCommand(program);
  registerRegistryCommand(program);
  registerServeCommand(program);
  registerStreamCommand(program);
  registerLoadtestCommand(program);
  registerSimulateCommand(program);
}
