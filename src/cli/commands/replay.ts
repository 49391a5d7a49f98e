/**
 * `croupier replay FILE`: re-sends traffic recorded by `croupier simulate --record` to a gateway at a chosen
 * speed-up (requests, and feedback where the current policy shows the recorded item again), and reports the
 * match rate and an off-policy estimate of the current policy from the recorded propensities.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { readRecording } from '../../../simulator/replay/recording.ts';
import { replayRecording } from '../../../simulator/replay/replay.ts';
import { createLogger } from '../../log/logger.ts';
import { textTable } from '../../report/charts.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';
import { FLAG_RANGES, gatewayUrlFlag, numberFlag, writableFile } from '../flags.ts';

interface ReplayFlags {
  url?: string;
  speedup: string;
  clients: string;
  out?: string;
}

export function registerReplayCommand(program: Command): void {
  withConfigFlags(
    program
      .command('replay')
      .argument('<file>', 'recording (JSON lines) written by croupier simulate --record')
      .description('re-send recorded traffic to a gateway; report match rate and an off-policy estimate')
      .option('--url <ws-url>', 'gateway WebSocket URL (default: from gateway.host/port, path /ws)')
      .option('--speedup <x>', 'replay this many times faster than recorded', '1')
      .option('--clients <n>', 'concurrent WebSocket clients', '8')
      .option('--out <file>', 'write the result as JSON'),
  ).action(async (file: string, flags: ReplayFlags, command: Command) => {
    const config = configFromCommand(command);
    const logger = createLogger({
      level: config.log.level,
      pretty: config.log.pretty,
      name: 'replay',
      fd: 2,
    });
    const code = 'CROUPIER_ERR_RECORDING_INVALID';
    const speedup = numberFlag('--speedup', flags.speedup, FLAG_RANGES.rate, code);
    const clients = numberFlag('--clients', flags.clients, FLAG_RANGES.clients, code);
    const url = gatewayUrlFlag(flags.url ?? `ws://${config.gateway.host}:${config.gateway.port}/ws`, code);
    const events = readRecording(file);
    if (flags.out) writableFile('--out', flags.out, code);
    const result = await replayRecording({
      url,
      events,
      speedup,
      clients,
      logger,
    });
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    const estimate = (e: typeof result.ips) =>
      e ? `${pct(e.estimate)} ± ${pct(1.96 * e.se)} (ESS ${e.effectiveSampleSize.toFixed(0)})` : '-';
    console.log(
      textTable(
        ['replay', 'value'],
        [
          ['requests replayed', `${result.replied}/${result.requests}`],
          ['failed', result.failed],
          ['items shown again', pct(result.itemMatchRate)],
          ['items shown again in the same slot', pct(result.slotMatchRate)],
          ['feedback re-sent / skipped', `${result.feedbackResent} / ${result.feedbackSkipped}`],
          ['recorded CTR per impression', pct(result.loggedCtr)],
          ['current policy CTR, IPS', estimate(result.ips)],
          ['current policy CTR, SNIPS', estimate(result.snips)],
          ['round trip p50 / p99 ms', `${result.latencyMs.p50} / ${result.latencyMs.p99}`],
        ],
      ),
    );
    if (flags.out) writeFileSync(flags.out, `${JSON.stringify(result, null, 2)}\n`);
  });
}
