/** `croupier start`: the whole loop on embedded defaults (what `npm start` runs). */
import type { Command } from 'commander';
import { startDemoTrafficIfWanted } from '../../../simulator/demo-traffic.ts';
import { untilSignal } from '../../app/shutdown.ts';
import { startCroupier } from '../../app/start.ts';
import { createLogger } from '../../log/logger.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

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
      onStarted: startDemoTrafficIfWanted,
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
    await untilSignal(logger, 'croupier');
    await croupier.close();
    logger.flush();
  });
}
