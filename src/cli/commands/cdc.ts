/**
 * `croupier cdc`: the PostgreSQL CDC source. Snapshots the items (and users) table once, then streams every
 * committed change into cdc.items / cdc.users until SIGINT/SIGTERM; `--drop-slot` removes its replication slot
 * and exits. Kafka and the schema registry come from the config (each one left empty there is started
 * embedded in this process).
 */
import { createServer } from 'node:http';
import type { Command } from 'commander';
import pg from 'pg';
import { loadSchemas } from '../../../streams/schemas/index.ts';
import { startEmbeddedServices } from '../../app/embedded.ts';
import { prepareTopicsAndSchemas, registryAuth } from '../../app/prepare-topics.ts';
import { createShutdownStack, untilSignal } from '../../app/shutdown.ts';
import { dropSlot } from '../../cdc/postgres/catalog.ts';
import { renderCdcMetrics } from '../../cdc/postgres/cdc-metrics-text.ts';
import { startPostgresCdc } from '../../cdc/postgres/source.ts';
import { loadConfig } from '../../config/index.ts';
import { CroupierError } from '../../errors/index.ts';
import { createEventCodec, createKafka } from '../../kafka/index.ts';
import { createLogger } from '../../log/logger.ts';
import { type GlobalFlags, withConfigFlags } from '../context.ts';

interface CdcFlags extends GlobalFlags {
  postgres?: string;
  itemsTable?: string;
  usersTable?: string;
  slot?: string;
  publication?: string;
  dropSlot?: boolean;
}

export function registerCdcCommand(program: Command): void {
  withConfigFlags(
    program
      .command('cdc')
      .description(
        'PostgreSQL change data capture into cdc.items and cdc.users (logical replication, pgoutput): initial snapshot, then every committed change, until SIGINT/SIGTERM',
      )
      .option(
        '--postgres <url>',
        'postgres://user:pass@host:5432/db of a role with REPLICATION (cdc.postgresUrl)',
      )
      .option('--items-table <table>', 'the items table (cdc.itemsTable)')
      .option('--users-table <table>', 'the users table (cdc.usersTable)')
      .option('--slot <name>', 'replication slot (cdc.slot)')
      .option('--publication <name>', 'publication (cdc.publication)')
      .option('--drop-slot', 'drop the replication slot and exit (the next start takes a new snapshot)'),
  ).action(async (_flags: unknown, command: Command) => {
    const flags = command.optsWithGlobals<CdcFlags>();
    // The flags are overrides of their cdc.* keys, after --set.
    const named: [string, string | undefined][] = [
      ['postgresUrl', flags.postgres],
      ['itemsTable', flags.itemsTable],
      ['usersTable', flags.usersTable],
      ['slot', flags.slot],
      ['publication', flags.publication],
    ];
    const overrides = [...(flags.set ?? [])];
    for (const [key, value] of named)
      if (value !== undefined) overrides.push(`cdc.${key}=${JSON.stringify(value)}`);
    const config = loadConfig({ file: flags.config, overrides });
    const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: 'cdc' });
    if (config.cdc.postgresUrl === '') {
      throw new CroupierError(
        'CROUPIER_ERR_CDC_CONFIG',
        'no database: pass --postgres URL or set CDC_POSTGRES_URL',
      );
    }
    if (flags.dropSlot) {
      const client = new pg.Client({ connectionString: config.cdc.postgresUrl });
      await client.connect();
      try {
        const dropped = await dropSlot(client, config.cdc.slot);
        process.stdout.write(
          dropped
            ? `dropped replication slot ${config.cdc.slot}\n`
            : `no replication slot ${config.cdc.slot}\n`,
        );
      } finally {
        await client.end();
      }
      return;
    }
    const shutdown = createShutdownStack(logger);
    try {
      const embedded = await startEmbeddedServices(config, logger);
      shutdown.push(() => embedded.close());
      const { endpoints } = embedded;
      if (endpoints.embedded.broker) process.stdout.write(`embedded broker: ${endpoints.brokers[0]}\n`);
      const kafka = createKafka(config.kafka, endpoints.brokers, { logger });
      const codec = createEventCodec({
        registryUrl: endpoints.registryUrl,
        auth: registryAuth(config),
        schemas: loadSchemas(),
        logger,
      });
      await prepareTopicsAndSchemas(config, kafka, codec);
      const source = await startPostgresCdc({
        config: config.cdc,
        kafka,
        codec,
        topics: config.kafka.topics,
        logger,
      });
      shutdown.push(() => source.close());
      if (config.cdc.metricsPort !== undefined) {
        const server = createServer((req, res) => {
          if (req.url === '/metrics') {
            res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
            res.end(renderCdcMetrics(source.metrics()));
          } else res.writeHead(404).end();
        });
        await new Promise<void>((resolve) => server.listen(config.cdc.metricsPort, '0.0.0.0', resolve));
        shutdown.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
        const address = server.address();
        process.stdout.write(
          `cdc metrics: http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/metrics\n`,
        );
      }
      process.stdout.write(
        `cdc: slot ${config.cdc.slot}, publication ${config.cdc.publication}, table ${config.cdc.itemsTable}${config.cdc.usersTable ? `, ${config.cdc.usersTable}` : ''}\n`,
      );
      const stopped = await Promise.race([
        untilSignal(logger, 'the CDC source').then(() => null),
        source.failed.catch((e: Error) => e),
      ]);
      await shutdown.close();
      logger.flush();
      if (stopped !== null) throw stopped;
    } catch (error) {
      await shutdown.close();
      throw error;
    }
  });
}
