import type { Command } from 'commander';
import { registerAnalyzeCommand } from './analyze.ts';
import { registerArchiveCommand } from './archive.ts';
import { registerBrokerCommand } from './broker.ts';
import { registerCdcCommand } from './cdc.ts';
import { registerConfigCommand } from './config.ts';
import { registerJobsCommand } from './jobs.ts';
import { registerLoadtestCommand } from './loadtest.ts';
import { registerModelsCommand } from './models.ts';
import { registerRegistryCommand } from './registry.ts';
import { registerReplayCommand } from './replay.ts';
import { registerServeCommand } from './serve.ts';
import { registerShadowCommand } from './shadow.ts';
import { registerSimulateCommand } from './simulate.ts';
import { registerStartCommand } from './start.ts';
import { registerStreamCommand } from './stream.ts';
import { registerTrainCommand } from './train.ts';

/** Every `croupier <command>`; each module adds one command with its own --help. */
export function registerCommands(program: Command): void {
  registerAnalyzeCommand(program);
  registerArchiveCommand(program);
  registerBrokerCommand(program);
  registerConfigCommand(program);
  registerRegistryCommand(program);
  registerServeCommand(program);
  registerStartCommand(program);
  registerLoadtestCommand(program);
  registerSimulateCommand(program);
  registerReplayCommand(program);
  registerShadowCommand(program);
  registerStreamCommand(program);
  registerTrainCommand(program);
  registerModelsCommand(program);
  registerJobsCommand(program);
  registerCdcCommand(program);
}
