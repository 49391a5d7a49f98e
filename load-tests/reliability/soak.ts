/**
 * A soak run: croupier under steady carousel traffic with clicks and a stream of new users for `minutes`, sampling
 * every `sampleSeconds` the resident memory of each process and Redis's own memory and key count. After
 * `warmupMinutes` each series should be flat: its least-squares slope is reported in MB per minute.
 *
 * `embedded` (the default) soaks `croupier start` as `npm start` runs it: one process (gateway, broker and topology
 * threads) and its redis-server child; the in-memory broker deletes old records by retention, so the topic cannot
 * be read back whole and there is no audit. `external` soaks croupier on a broker process with a data directory
 * and audits Redis against a reference fold of the topic at the end.
 */
import type { TrafficCounters } from './carousel-traffic.ts';
import { rss } from './processes.ts';
import { machineInfo, sleep, startEmbeddedCroupier, startReliabilityStack } from './stack.ts';
import type { AuditResult } from './state-audit.ts';

export interface SoakOptions {
  minutes: number;
  warmupMinutes: number;
  sampleSeconds: number;
  rate: number;
  clients: number;
  clickRate: number;
  slots: number;
  /** A connection says hello as a new user after this many carousels. */
  userChurnEvery: number;
  partitions: number;
  items: number;
  mode: 'embedded' | 'external';
  croupierConfig?: Record<string, unknown>;
  logDir?: string;
  log?: (line: string) => void;
}

export interface SoakSample {
  minute: number;
  croupierMb: number;
  /** Null when the broker is a thread of croupier. */
  brokerMb: number | null;
  redisRssMb: number;
  /** Redis INFO used_memory. */
  redisUsedMb: number;
  redisKeys: number;
  served: number;
  failed: number;
  /**
   * Each croupier thread's V8 heap in use and its external memory (Buffers), MB, from the gateway's
   * `croupier_thread_memory_bytes`: which thread a growth of croupier's resident memory is in.
   */
  threads?: Record<string, { heapMb: number; externalMb: number }>;
}

export interface SeriesSummary {
  /** Least-squares slope after the warm-up, MB per minute. */
  slopeMbPerMinute: number;
  /** Smallest and largest value after the warm-up. */
  minMb: number;
  maxMb: number;
}

export interface SoakReport {
  startedAt: string;
  machine: { cpus: number; loadAverage: number[] };
  options: Omit<SoakOptions, 'log'>;
  samples: SoakSample[];
  series: Partial<Record<'croupierMb' | 'brokerMb' | 'redisRssMb' | 'redisUsedMb', SeriesSummary>>;
  /** Per croupier thread, its heap in use and its external memory after the warm-up. */
  threadSeries?: Record<string, { heap: SeriesSummary; external: SeriesSummary }>;
  totals: TrafficCounters;
  /** Null in `embedded` mode. */
  audit: AuditResult | null;
}

/**
 * What `npm run soak` runs. The attribution window (`req:` keys), the change feeds' age and the gateway's idle-user
 * eviction are set to 5 minutes so that the memory they bound levels off inside the 30 minutes (with the defaults it
 * levels off after 30 minutes, at rate × window).
 */
export const SOAK_DEFAULTS: SoakOptions = {
  minutes: 30,
  warmupMinutes: 10,
  sampleSeconds: 10,
  rate: 200,
  clients: 20,
  clickRate: 0.2,
  slots: 4,
  userChurnEvery: 50,
  partitions: 4,
  items: 60,
  mode: 'embedded',
  croupierConfig: {
    stream: { requestTtlSeconds: 300, changeFeedMaxAgeSeconds: 300 },
    gateway: { cacheEvictAfterSeconds: 300 },
  },
};

const MB = 1024 * 1024;

function summarize(
  samples: readonly SoakSample[],
  value: (sample: SoakSample) => number | null | undefined,
  warmup: number,
): SeriesSummary {
  const points = samples.flatMap((s) => {
    const y = value(s);
    return s.minute >= warmup && y !== null && y !== undefined ? [[s.minute, y]] : [];
  });
  const n = points.length;
  if (n < 2) return { slopeMbPerMinute: 0, minMb: 0, maxMb: 0 };
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    slopeMbPerMinute: round(sxx === 0 ? 0 : sxy / sxx),
    minMb: round(Math.min(...points.map(([, y]) => y))),
    maxMb: round(Math.max(...points.map(([, y]) => y))),
  };
}

/** Each croupier thread's memory from the gateway's /metrics; empty when it cannot be read. */
async function threadMemory(
  gatewayUrl: string,
): Promise<Record<string, { heapMb: number; externalMb: number }>> {
  const out: Record<string, { heapMb: number; externalMb: number }> = {};
  try {
    const text = await (
      await fetch(new URL('/metrics', gatewayUrl), { signal: AbortSignal.timeout(5000) })
    ).text();
    for (const m of text.matchAll(
      /^croupier_thread_memory_bytes\{thread="([^"]+)",kind="(heap_used|external)"\} (\S+)$/gm,
    )) {
      const entry = out[m[1]!] ?? { heapMb: 0, externalMb: 0 };
      out[m[1]!] = entry;
      const mb = Math.round((Number(m[3]) / MB) * 10) / 10;
      if (m[2] === 'heap_used') entry.heapMb = mb;
      else entry.externalMb = mb;
    }
  } catch {
    // A gateway that does not answer this once leaves the sample without thread figures.
  }
  return out;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const stack =
    options.mode === 'embedded' ? await startEmbeddedCroupier(options) : await startReliabilityStack(options);
  try {
    const traffic = stack.startTraffic({
      rate: options.rate,
      clients: options.clients,
      slots: options.slots,
      clickRate: options.clickRate,
      userChurnEvery: options.userChurnEvery,
    });
    const redis = stack.redisClient();
    const samples: SoakSample[] = [];
    const started = Date.now();
    const end = started + options.minutes * 60_000;
    while (Date.now() < end) {
      await sleep(options.sampleSeconds * 1000);
      const info = await redis.info('memory');
      const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
      const counters = traffic.counters();
      const pids = await stack.pids();
      const mb = (pid: number) => Math.round((rss(pid) / MB) * 10) / 10;
      const sample: SoakSample = {
        minute: Math.round(((Date.now() - started) / 60_000) * 100) / 100,
        croupierMb: mb(pids.croupier),
        brokerMb: pids.broker === null ? null : mb(pids.broker),
        redisRssMb: mb(pids.redis),
        redisUsedMb: Math.round((used / MB) * 10) / 10,
        redisKeys: await redis.dbsize(),
        served: counters.served,
        failed: counters.failed,
        threads: await threadMemory(stack.croupier.gatewayUrl()),
      };
      samples.push(sample);
      log(
        `${sample.minute.toFixed(1)} min: croupier ${sample.croupierMb} MB, broker ${sample.brokerMb === null ? '(a thread of croupier)' : `${sample.brokerMb} MB`}, redis ${sample.redisRssMb} MB (used ${sample.redisUsedMb} MB, ${sample.redisKeys} keys), ${sample.served} served, ${sample.failed} failed; heap/external MB per thread: ${Object.entries(
          sample.threads ?? {},
        )
          .map(([name, t]) => `${name} ${t.heapMb}/${t.externalMb}`)
          .join(', ')}`,
      );
    }
    let totals: TrafficCounters;
    let audit: AuditResult | null = null;
    if (options.mode === 'external') ({ totals, audit } = await stack.stopAndAudit(traffic));
    else {
      await traffic.stop();
      totals = traffic.counters();
    }
    const { log: _log, ...rest } = options;
    const series = (key: keyof SoakReport['series']) =>
      summarize(samples, (s) => s[key], options.warmupMinutes);
    const threadNames = [...new Set(samples.flatMap((s) => Object.keys(s.threads ?? {})))];
    const threadSeries = Object.fromEntries(
      threadNames.map((name) => [
        name,
        {
          heap: summarize(samples, (s) => s.threads?.[name]?.heapMb, options.warmupMinutes),
          external: summarize(samples, (s) => s.threads?.[name]?.externalMb, options.warmupMinutes),
        },
      ]),
    );
    return {
      startedAt,
      machine: machineInfo(),
      options: rest,
      samples,
      series: {
        croupierMb: series('croupierMb'),
        ...(options.mode === 'external' ? { brokerMb: series('brokerMb') } : {}),
        redisRssMb: series('redisRssMb'),
        redisUsedMb: series('redisUsedMb'),
      },
      threadSeries,
      totals,
      audit,
    };
  } finally {
    await stack.close();
  }
}
