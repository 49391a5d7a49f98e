/**
 * A chaos run: croupier under steady carousel traffic with clicks while its parts are killed in turn with
 * SIGKILL and restarted as a supervisor would (after `restartDelayMs`, same port and data directory):
 *
 * - `redis-kill`: redis-server, which comes back from its append-only file;
 * - `redis-empty`: redis-server, which comes back with no data at all (the topology rebuilds it from Kafka);
 * - `broker-kill`: the broker process (with a data directory);
 * - `topology-kill`: croupier's topology thread (croupier restarts it itself);
 * - `process-kill`: the whole croupier process.
 *
 * Per fault it reports the carousels that failed or came back empty (and empty while /readyz said ready) from
 * the kill until recovery plus a settling time, and the seconds from the kill until croupier was whole again:
 * the killed part back, /readyz ready, and `servedRun` carousels in a row served. At the end every Redis counter
 * is compared with a reference fold of the clickstream topic (state-audit.ts).
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { TrafficCounters } from './carousel-traffic.ts';
import { machineInfo, sleep, startReliabilityStack } from './stack.ts';
import type { AuditResult } from './state-audit.ts';

export const FAULTS = ['redis-kill', 'redis-empty', 'broker-kill', 'topology-kill', 'process-kill'] as const;
export type FaultName = (typeof FAULTS)[number];

export interface ChaosOptions {
  /** Carousels per second, over `clients` connections; a share `clickRate` of them gets a click. */
  rate: number;
  clients: number;
  clickRate: number;
  slots: number;
  /** Partitions of every topic. */
  partitions: number;
  /** Items in the catalog. */
  items: number;
  faults: readonly FaultName[];
  warmupMs: number;
  /** Traffic measured after each recovery, before the next fault. */
  settleMs: number;
  /** A fault not recovered from in this long is reported as not recovered (null seconds). */
  recoverTimeoutMs: number;
  /** How long the supervisor waits before restarting a killed process. */
  restartDelayMs: number;
  /** Carousels served in a row that count as recovered. */
  servedRun: number;
  /** croupier's config on top of the run's own (ports, endpoints): e.g. `{stream: {sessionTimeoutMs: 6000}}`. */
  croupierConfig?: Record<string, unknown>;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Where croupier's own log goes (croupier.log); none: discarded. */
  logDir?: string;
}

export interface FaultResult {
  fault: FaultName;
  carousels: number;
  failed: number;
  empty: number;
  emptyWhileReady: number;
  /** Seconds from the kill until croupier was whole again; null when not within `recoverTimeoutMs`. */
  secondsToRecover: number | null;
  /** Whether /readyz said not ready at some point after the kill. */
  wentNotReady: boolean;
}

export interface ChaosReport {
  startedAt: string;
  seconds: number;
  machine: { cpus: number; loadAverage: number[] };
  options: Omit<ChaosOptions, 'log'>;
  baseline: TrafficCounters;
  faults: FaultResult[];
  totals: TrafficCounters;
  audit: AuditResult;
}

export const CHAOS_DEFAULTS: ChaosOptions = {
  rate: 200,
  clients: 20,
  clickRate: 0.2,
  slots: 4,
  partitions: 4,
  items: 60,
  faults: FAULTS,
  warmupMs: 20_000,
  settleMs: 10_000,
  recoverTimeoutMs: 180_000,
  restartDelayMs: 1000,
  servedRun: 50,
};

/** The short run of `npm test` (test/load-tests/chaos.test.ts). */
export const QUICK_CHAOS: ChaosOptions = {
  ...CHAOS_DEFAULTS,
  rate: 100,
  clients: 10,
  partitions: 2,
  items: 30,
  warmupMs: 3000,
  settleMs: 2000,
  recoverTimeoutMs: 60_000,
  servedRun: 30,
  croupierConfig: { stream: { sessionTimeoutMs: 6000 } },
};

function minus(a: TrafficCounters, b: TrafficCounters): TrafficCounters {
  const out = { ...a };
  for (const key of Object.keys(out) as (keyof TrafficCounters)[]) out[key] = a[key] - b[key];
  return out;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const stack = await startReliabilityStack(options);
  try {
    const { redis, broker, croupier, readiness } = stack;
    const traffic = stack.startTraffic({
      rate: options.rate,
      clients: options.clients,
      slots: options.slots,
      clickRate: options.clickRate,
    });
    /** Waits until /readyz is ready and `servedRun` carousels in a row were served; false at the deadline. */
    const whole = async (deadline: number): Promise<boolean> => {
      while (Date.now() < deadline) {
        const steady = !readiness.notReadySince(Date.now() - 150);
        if (readiness.ready() && steady && traffic.lastServedRun() >= options.servedRun) return true;
        await sleep(50);
      }
      return false;
    };
    if (!(await whole(Date.now() + options.recoverTimeoutMs))) {
      throw new Error('croupier did not serve carousels and report ready before the first fault');
    }
    await sleep(options.warmupMs);
    const baseline = traffic.counters();
    log(`warm: ${baseline.served} carousels served, ${baseline.failed} failed`);

    const inject: Record<FaultName, () => Promise<void>> = {
      'redis-kill': async () => {
        await redis.kill();
        await sleep(options.restartDelayMs);
        await redis.restart();
      },
      'redis-empty': async () => {
        await redis.kill();
        rmSync(stack.redisDir, { recursive: true, force: true });
        mkdirSync(stack.redisDir);
        await sleep(options.restartDelayMs);
        await redis.restart();
      },
      'broker-kill': async () => {
        await broker.kill();
        await sleep(options.restartDelayMs);
        await broker.restart();
      },
      'topology-kill': async () => croupier.crashTopology(),
      'process-kill': async () => {
        await croupier.kill();
        await sleep(options.restartDelayMs);
        await croupier.restart();
      },
    };

    const faults: FaultResult[] = [];
    for (const fault of options.faults) {
      const before = traffic.counters();
      const killedAt = Date.now();
      log(`${fault}: kill`);
      await inject[fault]();
      // A fault may take a moment to show (a thread's exit, a stalled partition): give /readyz a second.
      await sleep(1000);
      const recovered = await whole(killedAt + options.recoverTimeoutMs);
      const seconds = recovered ? (Date.now() - killedAt) / 1000 : null;
      log(`${fault}: ${seconds === null ? 'NOT recovered' : `recovered in ${seconds.toFixed(1)} s`}`);
      await sleep(options.settleMs);
      const delta = minus(traffic.counters(), before);
      faults.push({
        fault,
        carousels: delta.sent,
        failed: delta.failed,
        empty: delta.empty,
        emptyWhileReady: delta.emptyWhileReady,
        secondsToRecover: seconds,
        wentNotReady: readiness.notReadySince(killedAt),
      });
    }

    const { totals, audit } = await stack.stopAndAudit(traffic);
    const { log: _log, ...rest } = options;
    return {
      startedAt: new Date(started).toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      machine: machineInfo(),
      options: rest,
      baseline,
      faults,
      totals,
      audit,
    };
  } finally {
    await stack.close();
  }
}
