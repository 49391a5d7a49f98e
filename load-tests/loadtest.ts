/**
 * `croupier loadtest`: a stepped series of target rates against a WebSocket gateway, each step open loop
 * with its own warm-up, and in the same run the generator's own ceiling measured against a bare
 * uWebSockets.js echo server (a child process), so the report can say when the generator, not the gateway,
 * is what limits the numbers.
 */
import { cpus } from 'node:os';
import type { CarouselRequestMessage, HelloMessage, PingMessage } from '../src/domain/protocol-messages.ts';
import { CroupierError } from '../src/errors/index.ts';
import type { Logger } from '../src/log/logger.ts';
import { connectRaw } from '../src/ws-client/raw-client.ts';
import { createClicker } from './clicks.ts';
import { spawnEchoServer } from './echo-server.ts';
import {
  type ConnectionPool,
  type LoopMode,
  type RequestSource,
  runStep,
  type StepResult,
} from './open-loop.ts';

export interface LoadTestOptions {
  /** The gateway's WebSocket URL, e.g. ws://127.0.0.1:8080/ws. */
  url: string;
  /** Target rates (requests per second), one step each, in order. */
  rates: number[];
  stepSeconds: number;
  /** Warm-up before the first step (at the first rate), not recorded. */
  warmupSeconds: number;
  connections: number;
  timeoutMs: number;
  /** Slots per carousel request. */
  slots: number;
  /** Distinct user ids the connections say hello as. */
  users: number;
  mode: LoopMode;
  /** Measure the generator's ceiling against an echo server first. */
  calibrate: boolean;
  /**
   * Users click (clicks.ts): after each carousel, each shown item with probability appeal · 1/(slot + 1), sent as
   * feedback on the connection; the seed fixes which. Absent: nobody clicks.
   */
  clicks?: { seed: number };
  /** Pause between steps, seconds (default 2). */
  pauseSeconds?: number;
  /** Stop the series after a step with more than 10% timeouts (default true). */
  stopWhenSaturated?: boolean;
  /** Send echo-friendly requests only (no hello): the target is itself an echo server. */
  echo?: boolean;
  /** Measures something around each recorded target step (the CPU each part of the system used). */
  stepProbe?: StepProbe;
  logger?: Logger;
}

/** Brackets each recorded step against the target (not the warm-up, not the calibration). */
export interface StepProbe {
  start(rate: number): Promise<void>;
  /** Its figures are kept with the step as `parts`. */
  stop(step: StepResult): Promise<Record<string, number>>;
}

export interface StepVerdict {
  rate: number;
  /** The generator could not reach this rate even against an echo server, or its own latency is a large share. */
  generatorBound: boolean;
  reason: string;
}

export interface LoadTestResult {
  version: 1;
  target: string;
  startedAt: string;
  machine: { cpus: number; cpuModel: string; node: string };
  options: Omit<LoadTestOptions, 'logger'>;
  steps: StepResult[];
  calibration: { steps: StepResult[]; ceiling: number } | null;
  verdicts: StepVerdict[];
}

export function validateOptions(options: LoadTestOptions): void {
  const bad = (what: string) => {
    throw new CroupierError('CROUPIER_ERR_LOADTEST_OPTIONS', what, {});
  };
  if (options.rates.length === 0 || options.rates.some((r) => !(r > 0)))
    bad('--rates needs positive numbers');
  if (!(options.stepSeconds > 0)) bad('--step must be a positive number of seconds');
  if (!(options.connections >= 1)) bad('--connections must be at least 1');
  if (!(options.timeoutMs > 0)) bad('--timeout must be a positive number of milliseconds');
}

/** Requests of the gateway protocol: `carousel` with a request id the step can match its reply by. */
export function carouselSource(slots: number): RequestSource {
  // One request serialized once, split where the sequence number goes: each request is two concatenations.
  const template = JSON.stringify({
    type: 'carousel',
    requestId: 'lt-',
    slots,
  } satisfies CarouselRequestMessage);
  const at = template.indexOf('"lt-"') + '"lt-'.length;
  const head = template.slice(0, at);
  const tail = template.slice(at);
  return { request: (seq) => head + seq + tail };
}

/** Opens `count` connections; each says hello (unless `echo`) and waits for the first reply. */
export async function openPool(
  url: string,
  count: number,
  users: number,
  echo = false,
): Promise<ConnectionPool> {
  const pool: ConnectionPool = { sockets: [], nextSeq: 1, handler: () => {} };
  const opened = await Promise.all(
    Array.from({ length: count }, async (_, c) => {
      let welcome: ((m: Buffer) => void) | undefined;
      const greeted = new Promise<Buffer>((resolve) => {
        welcome = resolve;
      });
      const socket = await connectRaw({
        url,
        onMessage: (message) => {
          if (welcome !== undefined) {
            const done = welcome;
            welcome = undefined;
            done(message);
            return;
          }
          pool.handler(message, c);
        },
      });
      const greeting: PingMessage | HelloMessage = echo
        ? { type: 'ping' }
        : { type: 'hello', userId: `lt-user-${c % users}` };
      socket.send(JSON.stringify(greeting));
      const first = await Promise.race([
        greeted,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000).unref()),
      ]);
      if (first === null || first.indexOf('"type":"error"') !== -1) {
        await socket.close();
        throw new CroupierError(
          'CROUPIER_ERR_LOADTEST_CONNECT',
          `${url} did not welcome connection ${c} (${first === null ? 'no reply in 10 s' : first.toString()})`,
          { url },
        );
      }
      return socket;
    }),
  );
  pool.sockets.push(...opened);
  return pool;
}

export async function closePool(pool: ConnectionPool): Promise<void> {
  await Promise.all(pool.sockets.map((s) => s.close()));
}

/** Warm-up, then one step per rate. */
export async function runSteps(
  pool: ConnectionPool,
  source: RequestSource,
  options: Pick<
    LoadTestOptions,
    'rates' | 'stepSeconds' | 'warmupSeconds' | 'timeoutMs' | 'mode' | 'pauseSeconds' | 'stopWhenSaturated'
  >,
  onStep?: (step: StepResult) => void,
  probe?: StepProbe,
): Promise<StepResult[]> {
  if (options.warmupSeconds > 0) {
    await runStep(pool, source, {
      rate: options.rates[0],
      durationMs: options.warmupSeconds * 1000,
      timeoutMs: options.timeoutMs,
      mode: options.mode,
    });
  }
  const steps: StepResult[] = [];
  for (const [i, rate] of options.rates.entries()) {
    // A pause lets the server finish what the previous step left queued, so steps do not bleed into each other.
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, (options.pauseSeconds ?? 2) * 1000));
    await probe?.start(rate);
    const step = await runStep(pool, source, {
      rate,
      durationMs: options.stepSeconds * 1000,
      timeoutMs: options.timeoutMs,
      mode: options.mode,
    });
    if (probe !== undefined) step.parts = await probe.stop(step);
    steps.push(step);
    onStep?.(step);
    // Past saturation every higher rate only measures a growing queue: stop the series there.
    if (options.stopWhenSaturated !== false && step.timeouts > 0.1 * step.sent) break;
  }
  return steps;
}

/** The generator's ceiling: the highest rate it sustained (≥ 95% achieved, no timeouts) against the echo server. */
export function ceilingOf(steps: readonly StepResult[]): number {
  let ceiling = 0;
  for (const s of steps)
    if (s.achievedRate >= 0.95 * s.rate && s.timeouts === 0) ceiling = Math.max(ceiling, s.rate);
  return ceiling;
}

export function verdicts(
  steps: readonly StepResult[],
  calibration: readonly StepResult[] | null,
): StepVerdict[] {
  return steps.map((step) => {
    const echo = calibration?.find((c) => c.rate === step.rate);
    if (echo === undefined) return { rate: step.rate, generatorBound: false, reason: 'not calibrated' };
    if (echo.achievedRate < 0.95 * echo.rate || echo.timeouts > 0) {
      return {
        rate: step.rate,
        generatorBound: true,
        reason: `the generator reached only ${echo.achievedRate}/s against a bare echo server`,
      };
    }
    if (echo.latency.p99 >= 0.5 * step.latency.p99) {
      return {
        rate: step.rate,
        generatorBound: true,
        reason: `the echo server's own p99 (${echo.latency.p99} ms) is at least half the gateway's (${step.latency.p99} ms)`,
      };
    }
    return {
      rate: step.rate,
      generatorBound: false,
      reason: `echo p99 ${echo.latency.p99} ms vs gateway p99 ${step.latency.p99} ms`,
    };
  });
}

/** Calibration against an echo server, then the steps against the target. */
export async function runLoadTest(
  options: LoadTestOptions,
  onStep?: (phase: 'calibration' | 'target', step: StepResult) => void,
): Promise<LoadTestResult> {
  validateOptions(options);
  const startedAt = new Date().toISOString();
  const source = carouselSource(options.slots);
  let calibration: LoadTestResult['calibration'] = null;
  // Fail fast on an unreachable target, before spending the calibration's time.
  await closePool(await openPool(options.url, 1, 1, options.echo ?? false));
  if (options.calibrate) {
    const echo = await spawnEchoServer({});
    try {
      const pool = await openPool(`ws://127.0.0.1:${echo.port}/`, options.connections, options.users, true);
      const rates = [...options.rates, 2 * Math.max(...options.rates)];
      const steps = await runSteps(pool, source, { ...options, rates, stopWhenSaturated: false }, (s) =>
        onStep?.('calibration', s),
      );
      await closePool(pool);
      calibration = { steps, ceiling: ceilingOf(steps) };
    } finally {
      await echo.close();
    }
    options.logger?.info({ ceiling: calibration.ceiling }, 'generator calibrated against a bare echo server');
  }
  const pool = await openPool(options.url, options.connections, options.users, options.echo ?? false);
  const clicker = options.clicks === undefined ? null : createClicker(options.clicks.seed);
  const target: RequestSource =
    clicker === null ? source : { ...source, replied: (reply) => clicker.clicksOn(reply) };
  let steps: StepResult[];
  try {
    steps = await runSteps(pool, target, options, (s) => onStep?.('target', s), options.stepProbe);
  } finally {
    await closePool(pool);
  }
  const { logger: _logger, stepProbe: _probe, ...rest } = options;
  return {
    version: 1,
    target: options.url,
    startedAt,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    options: rest,
    steps,
    calibration,
    verdicts: verdicts(steps, calibration?.steps ?? null),
  };
}
