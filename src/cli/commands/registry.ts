import { type Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../../log/logger.ts';
import { startSchemaRegistry } from '../../registry/index.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

interface RegistryFlags {
  host?: string;
  port?: number;
  dataDir?: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`expected an integer in 0..65535, got '${value}'`);
  }
  return port;
}

export function registerRegistryCommand(program: Command): void {
  withConfigFlags(
    program
      .command('registry')
      .description(
        'run the embedded schema registry (Confluent REST API) until SIGINT/SIGTERM; defaults from schemaRegistry.embedded',
      )
      .option('--host <host>', 'interface to listen on')
      .option('-p, --port <port>', 'TCP port (0 picks a free one)', parsePort)
      .option('-d, --data-dir <dir>', 'directory the schemas persist in (empty: memory only)'),
  ).action(async (flags: RegistryFlags, command: Command) => {
    const config = configFromCommand(command);
    const embedded = config.schemaRegistry.embedded;
    const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
    const registry = await startSchemaRegistry({
      host: flags.host ?? embedded.host,
      port: flags.port ?? embedded.port,
      dataDir: flags.dataDir ?? embedded.dataDir,
      limits: { maxSchemaChars: embedded.maxSchemaChars, maxStoredChars: embedded.maxStoredChars },
      logger,
    });
    process.stdout.write(`schema registry: ${registry.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        logger.info({ signal }, 'stopping the schema registry');
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await registry.close();
    logger.flush();
  });
}
