/** `croupier broker`: the embedded Kafka-protocol broker as a standalone process. */
import { type Command, InvalidArgumentError } from 'commander';
import { startBroker } from '../../broker/index.ts';
import { createLogger } from '../../log/logger.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

interface BrokerFlags {
  host?: string;
  port?: number;
  dataDir?: string;
  partitions?: number;
  autoCreateTopics?: boolean;
  fsync?: 'never' | 'always';
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer in ${min}..${max}, got '${value}'`);
    }
    return n;
  };
}

export function registerBrokerCommand(program: Command): void {
  withConfigFlags(
    program
      .command('broker')
      .description(
        'run the embedded single-node Kafka-protocol broker until SIGINT/SIGTERM; prints "broker: host:port" once listening',
      )
      .option('--host <host>', 'interface to listen on (default: broker.host, 127.0.0.1)')
      .option(
        '-p, --port <port>',
        'TCP port (default: broker.port, else 9092; 0 picks a free one)',
        integer(0, 65535),
      )
      .option(
        '-d, --data-dir <dir>',
        'keep the log in segment files here (default: broker.dataDir; empty: memory)',
      )
      .option(
        '--partitions <n>',
        'partitions of auto-created topics (default: kafka.partitions)',
        integer(1, 100_000),
      )
      .option(
        '--no-auto-create-topics',
        'answer UNKNOWN_TOPIC_OR_PARTITION instead of creating topics on first use',
      )
      .option(
        '--fsync <policy>',
        "'never' (page cache; survives a process crash) or 'always' (fsync per append)",
        (v) => {
          if (v !== 'never' && v !== 'always') throw new InvalidArgumentError("expected 'never' or 'always'");
          return v;
        },
      ),
  ).action(async (flags: BrokerFlags, command: Command) => {
    const config = configFromCommand(command);
    const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: 'broker' });
    const broker = await startBroker({
      host: flags.host ?? config.broker.host,
      port: flags.port ?? (config.broker.port || 9092),
      dataDir: (flags.dataDir ?? config.broker.dataDir) || undefined,
      defaultPartitions: flags.partitions ?? config.kafka.partitions,
      autoCreateTopics: flags.autoCreateTopics ?? true,
      fsync: flags.fsync,
      logger,
    });
    process.stdout.write(`broker: ${broker.address}\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        logger.info({ signal }, 'stopping the broker');
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await broker.close();
    logger.flush();
  });
}
