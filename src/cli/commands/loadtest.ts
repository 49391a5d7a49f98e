/**
 * `croupier loadtest`: open-loop load against a running gateway at a stepped series of rates, latency from
 * the intended send time (corrected for coordinated omission) in HdrHistograms, with the generator's own
 * ceiling measured against a bare echo server in the same run. `--compare a.json b.json` compares two runs.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type LoadTestOptions, runLoadTest } from '../../../load-tests/loadtest.ts';
import { compareResults, readResult, resultSvg, resultTable } from '../../../load-tests/report.ts';
import { CroupierError } from '../../errors/index.ts';
import { createLogger } from '../../log/logger.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

interface LoadTestFlags {
  url?: string;
  rates: string;
  step: string;
  warmup: string;
  connections?: string;
  timeout: string;
  slots: string;
  users: string;
  closed?: boolean;
  /** `--clicks` alone: true; with a seed: its text. */
  clicks?: boolean | string;
  calibrate: boolean;
  pause: string;
  stop: boolean;
  out?: string;
  svg?: string;
  markdown?: boolean;
  compare?: string[];
}

function numbers(flag: string, text: string): number[] {
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new CroupierError(
      'CROUPIER_ERR_LOADTEST_OPTIONS',
      `${flag} expects positive numbers, got '${text}'`,
      {
        flag,
      },
    );
  }
  return values;
}

export function registerLoadtestCommand(program: Command): void {
  withConfigFlags(
    program
      .command('loadtest')
      .description('open-loop WebSocket load test of a running gateway: latency versus rate, calibrated')
      .option('--url <ws-url>', 'gateway WebSocket URL (default: from gateway.host/port, path /ws)')
      .option('--rates <list>', 'target rates in requests/s, one step each', '1000,2000,5000')
      .option('--step <seconds>', 'length of each step', '10')
      .option('--warmup <seconds>', 'unrecorded warm-up at the first rate', '3')
      .option('--connections <n>', 'WebSocket connections (default: enough for 100 requests/s each)')
      .option('--timeout <ms>', 'a reply later than this after its intended time is a timeout', '2000')
      .option('--slots <n>', 'slots per carousel request', '10')
      .option('--users <n>', 'distinct user ids the connections say hello as', '1000')
      .option('--closed', 'closed loop instead (hides stalls; for comparison only)')
      .option(
        '--clicks [seed]',
        'users click: each shown item with probability appeal(item) / (slot + 1), sent as feedback (seeded)',
      )
      .option('--no-calibrate', 'skip measuring the generator against a bare echo server')
      .option(
        '--pause <seconds>',
        'pause between steps so a queue left by one does not bleed into the next',
        '2',
      )
      .option('--no-stop', 'keep stepping past a saturated rate (more than 10% timeouts)')
      .option('--out <file>', 'write the result as JSON')
      .option('--svg <file>', 'write the percentile curves as SVG')
      .option('--markdown', 'print the table as Markdown')
      .option('--compare <files...>', 'compare two result files (a.json b.json) and exit'),
  ).action(async (flags: LoadTestFlags, command: Command) => {
    if (flags.compare !== undefined) {
      if (flags.compare.length !== 2) {
        throw new CroupierError(
          'CROUPIER_ERR_LOADTEST_OPTIONS',
          '--compare takes exactly two files: a.json b.json',
        );
      }
      console.log(compareResults(readResult(flags.compare[0]), readResult(flags.compare[1])));
      return;
    }
    const config = configFromCommand(command);
    const logger = createLogger({
      level: config.log.level,
      pretty: config.log.pretty,
      name: 'loadtest',
      fd: 2,
    });
    const rates = numbers('--rates', flags.rates);
    const options: LoadTestOptions = {
      url: flags.url ?? `ws://${config.gateway.host}:${config.gateway.port}/ws`,
      rates,
      stepSeconds: numbers('--step', flags.step)[0],
      warmupSeconds: Number(flags.warmup),
      connections: flags.connections
        ? numbers('--connections', flags.connections)[0]
        : Math.max(16, Math.ceil(Math.max(...rates) / 100)),
      timeoutMs: numbers('--timeout', flags.timeout)[0],
      slots: numbers('--slots', flags.slots)[0],
      users: numbers('--users', flags.users)[0],
      mode: flags.closed ? 'closed' : 'open',
      ...(flags.clicks === undefined
        ? {}
        : { clicks: { seed: typeof flags.clicks === 'string' ? numbers('--clicks', flags.clicks)[0] : 1 } }),
      calibrate: flags.calibrate,
      pauseSeconds: Number(flags.pause),
      stopWhenSaturated: flags.stop,
      logger,
    };
    const result = await runLoadTest(options, (phase, step) =>
      logger.info(
        { phase, rate: step.rate, achieved: step.achievedRate, p50: step.latency.p50, p99: step.latency.p99 },
        'step done',
      ),
    );
    console.log(resultTable(result, flags.markdown));
    if (flags.out) writeFileSync(flags.out, `${JSON.stringify(result, null, 2)}\n`);
    if (flags.svg) writeFileSync(flags.svg, resultSvg(result));
  });
}
