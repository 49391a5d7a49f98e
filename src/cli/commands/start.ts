/** `croupier start`: the whole loop on embedded defaults (what `npm start` runs). */
import type { Command } from 'commander';
import { startDemoTrafficIfWanted } from '../../../simulator/demo-traffic.ts';
import type { Endpoints } from '../../app/embedded.ts';
import { createRedisClient } from '../../app/redis-client.ts';
import { untilSignal } from '../../app/shutdown.ts';
import { startCroupier } from '../../app/start.ts';
import type { Config } from '../../config/index.ts';
import type { Logger } from '../../log/logger.ts';
import { createLogger } from '../../log/logger.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';
import { jobRunnerFor } from '../scheduled-jobs.ts';

export function registerStartCommand(program: Command): void {
  withConfigFlags(
    program
      .command('start')
      .description(
        'run the whole loop until SIGINT/SIGTERM: embedded broker, schema registry and redis-server where the config names none, the stream topology and the gateway; prints the URLs of the page and the dashboard',
      ),
  ).action(async (_flags: unknown, command: Command) => {
    const config = configFromCommand(command);
    const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
    const croupier = await startCroupier({
      config,
      logger,
      onStarted: async (loop) => {
        const demo = await startDemoTrafficIfWanted(loop);
        const jobs = startScheduledJobs(loop.config, loop.endpoints, loop.logger);
        return {
          async close() {
            await jobs?.close();
            await demo?.close();
          },
        };
      },
    });
    const { endpoints } = croupier;
    console.log(
      [
        '',
        `  croupier is running: open ${croupier.gatewayUrl}`,
        `  operator's dashboard: ${croupier.gatewayUrl}dashboard${config.gateway.authDisabled ? '' : '?token=<gateway.adminToken>'}`,
        `  kafka ${endpoints.brokers.join(',')} · schema registry ${endpoints.registryUrl} · redis ${endpoints.redisUrl || endpoints.redisClusterNodes.join(',')}`,
        '',
      ].join('\n'),
    );
    // Until a signal, or a part croupier cannot go on without stops: then it exits 2 with the reason, for the
    // process supervisor to start it again.
    const failure = await Promise.race([
      untilSignal(logger, 'croupier').then(() => undefined),
      croupier.failed,
    ]);
    if (failure !== undefined) logger.error({ code: failure.code }, `${failure.message}: stopping`);
    await croupier.close();
    logger.flush();
    if (failure !== undefined) throw failure;
  });
}

/** The periodic jobs on their schedule (jobs.enabled), with the run ledger in the loop's Redis. */
function startScheduledJobs(
  config: Readonly<Config>,
  endpoints: Endpoints,
  logger: Logger,
): { close(): Promise<void> } | undefined {
  if (!config.jobs.enabled) return undefined;
  const redis = createRedisClient(endpoints);
  const runner = jobRunnerFor(config, redis, logger);
  runner.start(config.jobs.tickMs);
  return {
    async close() {
      await runner.stop();
      redis.disconnect();
    },
  };
}
