/**
 * `croupier archive`: runs the archive sink until SIGINT/SIGTERM (`croupier start` runs it too, in a worker
 * thread), and its maintenance and inspection commands: `ls`, `verify`, `compact`.
 */
import type { Command } from 'commander';
import { untilSignal } from '../../app/shutdown.ts';
import { compactArchive } from '../../archive/compact.ts';
import { openArchiveFileSystem } from '../../archive/fs/open.ts';
import { openDuckDb, startArchive } from '../../archive/index.ts';
import { listArchive, verifyArchive } from '../../archive/inspect.ts';
import { fileNameOf } from '../../archive/layout.ts';
import { applyRetention } from '../../archive/retention.ts';
import { CroupierError } from '../../errors/index.ts';
import { createKafka } from '../../kafka/index.ts';
import { createLogger } from '../../log/logger.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

export function registerArchiveCommand(program: Command): void {
  const archive = program
    .command('archive')
    .description(
      'archive every topic to Hive-partitioned Parquet (or Avro) files, exactly once, on a local directory or HDFS (archive.uri); with no subcommand, run the archive until SIGINT/SIGTERM',
    );

  withConfigFlags(
    archive
      .command('run', { isDefault: true })
      .description(
        'consume clickstream, CDC and dead-letter topics into the archive (needs kafka.brokers and schemaRegistry.url)',
      ),
  ).action(async (_flags: unknown, command: Command) => {
    const config = configFromCommand(command);
    if (config.kafka.brokers.length === 0 || !config.schemaRegistry.url) {
      throw new CroupierError(
        'CROUPIER_ERR_CONFIG_INVALID',
        'croupier archive runs against a running Kafka and schema registry: set KAFKA_BROKERS and SCHEMA_REGISTRY_URL (croupier start runs the archive with its embedded ones)',
        { key: 'kafka.brokers' },
      );
    }
    const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: 'archive' });
    const handle = await startArchive(
      config,
      { brokers: config.kafka.brokers, registryUrl: config.schemaRegistry.url },
      logger,
    );
    out(
      `archive: ${config.archive.uri} (${config.archive.format}), consumer group ${config.archive.groupId}`,
    );
    await untilSignal(logger, 'the archive');
    await handle.close();
    logger.flush();
  });

  withConfigFlags(
    archive
      .command('ls')
      .description('topics and partitions of the archive: offset ranges, files, rows, bytes')
      .option('--json', 'print JSON')
      .option('--no-rows', 'skip counting rows (no file is read)'),
  ).action(async (flags: { json?: boolean; rows: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const duckdb = await openDuckDb();
    try {
      const listing = await listArchive(openArchiveFileSystem(config.archive), duckdb, { rows: flags.rows });
      if (flags.json) {
        out(JSON.stringify(listing, null, 2));
        return;
      }
      out(
        `${'topic+partition'.padEnd(32)} ${'offsets'.padEnd(28)} ${'files'.padStart(7)} ${'rows'.padStart(11)} ${'bytes'.padStart(13)}`,
      );
      for (const p of listing) {
        const ranges = p.ranges.map(([a, b]) => `${a}..${b}`).join(', ');
        out(
          `${`${p.topic}+${p.partition}${p.epoch > 0 ? ` epoch ${p.epoch}` : ''}`.padEnd(32)} ${ranges.padEnd(28)} ${String(p.files).padStart(7)} ${String(p.rows).padStart(11)} ${String(p.bytes).padStart(13)}`,
        );
      }
      if (listing.length === 0) out(`(no archived files under ${config.archive.uri})`);
    } finally {
      duckdb.closeSync();
    }
  });

  withConfigFlags(
    archive
      .command('verify')
      .description(
        'check every file is readable, ranges are contiguous and do not overlap, offsets inside files match their names, and (with kafka.brokers) nothing Kafka holds is missing; exits 1 when anything is wrong',
      ),
  ).action(async (_flags: unknown, command: Command) => {
    const config = configFromCommand(command);
    const duckdb = await openDuckDb();
    try {
      const kafka = config.kafka.brokers.length > 0 ? createKafka(config.kafka) : undefined;
      const report = await verifyArchive(openArchiveFileSystem(config.archive), duckdb, { kafka });
      out(
        `${report.files} files, ${report.rows} rows checked${report.kafkaChecked ? ', compared with Kafka' : ' (Kafka not compared: kafka.brokers is empty)'}`,
      );
      for (const [where, n] of Object.entries(report.lag)) out(`lag ${where}: ${n} records not archived yet`);
      for (const problem of report.problems) out(`PROBLEM ${problem}`);
      if (report.problems.length > 0) {
        out(`verify failed: ${report.problems.length} problem(s)`);
        process.exitCode = 1;
      } else out('verify passed');
    } finally {
      duckdb.closeSync();
    }
  });

  withConfigFlags(
    archive
      .command('compact')
      .description(
        'merge consecutive small files of one partition and hour into one (atomically), and apply archive.retentionDays',
      )
      .option('--min-age-ms <ms>', 'only hours that ended at least this long ago', '0')
      .option('--dry-run', 'print what would be merged'),
  ).action(async (flags: { minAgeMs: string; dryRun?: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const logger = createLogger({
      level: config.log.level,
      pretty: config.log.pretty,
      name: 'archive-compact',
    });
    const fs = openArchiveFileSystem(config.archive);
    const duckdb = await openDuckDb();
    try {
      if (!flags.dryRun)
        for (const dir of await applyRetention(fs, config.archive.retentionDays, logger))
          out(`removed ${dir}`);
      const result = await compactArchive({
        fs,
        duckdb,
        targetBytes: config.archive.compactTargetBytes,
        compression: config.archive.compression,
        minAgeMs: Number(flags.minAgeMs),
        dryRun: flags.dryRun,
        logger,
      });
      for (const g of result.groups)
        out(
          `${flags.dryRun ? 'would merge' : 'merge'} ${g.files.length} files → ${g.dir}/${fileNameOf(g.merged)}`,
        );
      out(`${result.merged} merged, ${result.removed} files replaced, ${result.failed} failed`);
      if (result.failed > 0) process.exitCode = 1;
    } finally {
      duckdb.closeSync();
    }
  });
}
