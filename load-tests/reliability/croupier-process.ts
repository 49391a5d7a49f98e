/**
 * croupier as a reliability run starts it: `startCroupier` on the config in $CROUPIER_CONFIG (JSON), printing
 * `ready <gateway url> <endpoints JSON>` once it serves (the endpoints of its embedded parts, if any). SIGUSR2 kills its
 * topology thread (croupier restarts it); SIGTERM stops it; it exits 2 when its embedded broker's thread stops.
 *
 *   CROUPIER_CONFIG='{"gateway":{"port":8080}}' node --import tsx load-tests/reliability/croupier-process.ts
 */
import { startCroupier } from '../../src/app/start.ts';
import { parseConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/log/logger.ts';

const config = parseConfig(JSON.parse(process.env.CROUPIER_CONFIG ?? '{}'));
const logger = createLogger({ level: config.log.level, pretty: false });
const croupier = await startCroupier({ config, logger });
process.on('SIGUSR2', () => {
  void croupier.topology.crash();
});
process.once('SIGTERM', async () => {
  await croupier.close();
  process.exit(0);
});
// As `croupier start` does: a part it cannot go on without stopped (the embedded broker's thread), so it exits 2.
void croupier.failed.then(async (reason) => {
  logger.error({ code: reason.code }, `${reason.message}: stopping`);
  await croupier.close();
  process.exit(2);
});
console.log(`ready ${croupier.gatewayUrl} ${JSON.stringify(croupier.endpoints)}`);
