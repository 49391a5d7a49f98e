/**
 * Server-side time of one carousel decision with the default model, split by step: features, scoring,
 * sampling (posteriors, Thompson draws, top-k), propensity (Monte Carlo), encoding (JSON.stringify of the
 * decision). Also: the Beta sampler against jStat.beta.sample, micro-batching on and off under concurrency,
 * and the propensity cost per replicate count. Then the same decision inside a running gateway: `croupier start`
 * with a catalog of 200 items, one client asking for 10-slot carousels at 100/s, and the `serverTimeUs` its
 * replies carry (from reading the request to the reply; the gateway integrates propensities after the reply, on
 * its propensity thread), against this run's in-process p50 at 200 candidates. Prints tables, writes
 * bench/results/decide.json.
 *
 *   npm run bench:decide [-- --quick] [-- --no-gateway]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import { GatewayClient } from '../simulator/client/gateway-client.ts';
import { createDecider } from '../src/decision/decider.ts';
import { silentLogger } from '../src/log/logger.ts';
import { createOnnxScorer } from '../src/scoring/onnx-scorer.ts';
import { sampleBeta } from '../src/stats/beta-sampler.ts';
import { createRng } from '../src/stats/rng.ts';
import { startCroupierWithCatalog } from './croupier-process.ts';
import { DECIDING, REQUEST, world } from './decide-world.ts';

const require = createRequire(import.meta.url);
const jStat = require('jstat') as { beta: { sample(alpha: number, beta: number): number } };

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-gateway': { type: 'boolean', default: false },
  },
});
const ITERATIONS = args.quick ? 400 : 3000;
const WARMUP = args.quick ? 100 : 500;
/** Pool sizes; up to 1,000 every item is scored, past `model.maxCandidates` (500) retrieval narrows the pool. */
const SIZES = [50, 200, 1000, 20_000];
const RETRIEVED = 500;
/** Candidates a decision over a pool of n scores. */
const scoredOf = (n: number) => (n > 1000 ? RETRIEVED : n);
const SLOTS = 10;

function histogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 100_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Values are recorded in tenths of a µs. */
function record(h: hdr.Histogram, us: number): void {
  h.recordValue(Math.max(1, Math.round(us * 10)));
}

function pct(h: hdr.Histogram, p: number): number {
  return Math.round(h.getValueAtPercentile(p)) / 10;
}

const STEPS = ['features', 'scoring', 'sampling', 'propensity', 'encoding', 'total'] as const;
type Step = (typeof STEPS)[number];

async function benchDecisions(
  batching: boolean,
  replicates: number,
): Promise<{
  steps: Record<string, Record<Step, { p50: number; p99: number }>>;
  cpuUs: Record<string, number>;
}> {
  const scorer = await createOnnxScorer({ registryDir: 'models', logger: silentLogger(), batching });
  const results: Record<string, Record<Step, { p50: number; p99: number }>> = {};
  const cpuUs: Record<string, number> = {};
  for (const n of SIZES) {
    const view = world(n);
    const decider = createDecider({
      ...DECIDING,
      scorer,
      logger: silentLogger(),
      propensity: { replicates },
      maxCandidates: scoredOf(n),
    });
    const hs = Object.fromEntries(STEPS.map((s) => [s, histogram()])) as Record<Step, hdr.Histogram>;
    const request = REQUEST;
    const iterations = n >= 1000 ? Math.ceil(ITERATIONS / 3) : ITERATIONS;
    let cpuStart = process.cpuUsage();
    for (let i = 0; i < WARMUP + iterations; i++) {
      if (i === WARMUP) cpuStart = process.cpuUsage();
      const start = performance.now();
      const decision = await decider.decide(request, view);
      const encodeStart = performance.now();
      const json = JSON.stringify(decision);
      const end = performance.now();
      if (json.length === 0) throw new Error('empty encoding');
      if (i < WARMUP) continue;
      const t = decision.timings;
      record(hs.features, t.featuresUs);
      record(hs.scoring, t.scoringUs);
      record(hs.sampling, t.samplingUs);
      record(hs.propensity, t.propensityUs ?? 0);
      record(hs.encoding, (end - encodeStart) * 1000);
      record(hs.total, (end - start) * 1000);
    }
    const cpu = process.cpuUsage(cpuStart);
    cpuUs[String(n)] = Math.round(((cpu.user + cpu.system) / iterations) * 10) / 10;
    await decider.close();
    results[String(n)] = Object.fromEntries(
      STEPS.map((s) => [s, { p50: pct(hs[s], 50), p99: pct(hs[s], 99) }]),
    ) as Record<Step, { p50: number; p99: number }>;
  }
  await scorer.close();
  return { steps: results, cpuUs };
}

/** Throughput and latency of `concurrency` decisions in flight at once, 200 candidates. */
async function benchConcurrency(
  batching: boolean,
  concurrency: number,
  batchWaitUs = 0,
): Promise<{ decisionsPerSecond: number; p50: number; p99: number }> {
  // Micro-batching is ONNX Runtime's: the default model would otherwise be scored inline, unbatched.
  const scorer = await createOnnxScorer({
    registryDir: 'models',
    logger: silentLogger(),
    batching,
    batchWaitUs,
    inline: 'off',
  });
  const view = world(200);
  const decider = createDecider({
    scorer,
    policy: 'thompson',
    priorStrength: 20,
    logger: silentLogger(),
    seed: 3,
  });
  const h = histogram();
  const total = args.quick ? 800 : 4000;
  let issued = 0;
  const worker = async (measure: boolean): Promise<void> => {
    while (issued < total) {
      issued++;
      const start = performance.now();
      await decider.decide(
        {
          requestId: 'r',
          userId: 'u1',
          slots: SLOTS,
          context: { device: 'mobile', country: null, page: null },
        },
        view,
      );
      if (measure) record(h, (performance.now() - start) * 1000);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker(false)));
  issued = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => worker(true)));
  const seconds = (performance.now() - start) / 1000;
  await decider.close();
  await scorer.close();
  return { decisionsPerSecond: Math.round(total / seconds), p50: pct(h, 50), p99: pct(h, 99) };
}

/** Sum and count of each `croupier_decision_step_seconds` step and of the decision latency, from /metrics. */
async function stepTotals(metricsUrl: string): Promise<Record<string, { sum: number; count: number }>> {
  const text = await (await fetch(metricsUrl)).text();
  const totals: Record<string, { sum: number; count: number }> = {};
  for (const line of text.split('\n')) {
    const m =
      /^croupier_decision_step_seconds_(sum|count)\{step="(\w+)"\} (\S+)$/.exec(line) ??
      /^croupier_decision_latency_seconds_(sum|count)() (\S+)$/.exec(line);
    if (m === null) continue;
    const key = m[2] === '' ? 'server' : m[2];
    totals[key] ??= { sum: 0, count: 0 };
    totals[key][m[1] as 'sum' | 'count'] = Number(m[3]);
  }
  return totals;
}

interface GatewayTimes {
  rate: number;
  replies: number;
  errors: number;
  /** serverTimeUs percentiles of the replies. */
  p50: number;
  p90: number;
  p99: number;
  /** Mean µs per decision of each step on the reply's path and of the whole server time, from /metrics. */
  meanUs: Record<string, number>;
}

/** The gateway's `serverTimeUs` at a steady rate, `croupier start` with 200 items (see the file comment). */
async function benchGateway(rate: number, seconds: number, settings: string[] = []): Promise<GatewayTimes> {
  const croupier = await startCroupierWithCatalog({ items: 200, settings });
  try {
    const client = await GatewayClient.connect({ url: croupier.url });
    await client.hello('bench-user', { device: 'mobile', country: 'DE', page: 'home' });
    const h = histogram();
    let errors = 0;
    let sent = 0;
    const run = async (count: number, measure: boolean): Promise<void> => {
      const pending: Promise<void>[] = [];
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        const wait = started + (i * 1000) / rate - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        pending.push(
          client.carousel({ requestId: `t${sent++}`, slots: SLOTS }).then((reply) => {
            if (reply.type !== 'carousel' || reply.items.length !== SLOTS) errors++;
            else if (measure) record(h, reply.serverTimeUs);
          }),
        );
      }
      await Promise.all(pending);
    };
    await run(5 * rate, false);
    const before = await stepTotals(croupier.metricsUrl);
    await run(seconds * rate, true);
    const after = await stepTotals(croupier.metricsUrl);
    await client.close();
    const meanUs: Record<string, number> = {};
    for (const [key, { sum, count }] of Object.entries(after)) {
      const n = count - (before[key]?.count ?? 0);
      if (n > 0) meanUs[key] = Math.round(((sum - (before[key]?.sum ?? 0)) / n) * 1e7) / 10;
    }
    return { rate, replies: h.totalCount, errors, p50: pct(h, 50), p90: pct(h, 90), p99: pct(h, 99), meanUs };
  } finally {
    await croupier.stop();
  }
}

/** µs to draw one Beta sample per candidate for n candidates, fast sampler vs jStat. */
function benchSampling(n: number): { croupier: number; jstat: number; speedup: number } {
  const rng = createRng(11);
  const alpha = new Float64Array(n);
  const beta = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    alpha[i] = 1 + rng.next() * 50;
    beta[i] = 19 + rng.next() * 2000;
  }
  const rounds = args.quick ? 300 : 2000;
  let sink = 0;
  const time = (draw: (a: number, b: number) => number): number => {
    for (let r = 0; r < 50; r++) for (let i = 0; i < n; i++) sink += draw(alpha[i], beta[i]);
    const start = performance.now();
    for (let r = 0; r < rounds; r++) for (let i = 0; i < n; i++) sink += draw(alpha[i], beta[i]);
    return ((performance.now() - start) * 1000) / rounds;
  };
  const croupier = time((a, b) => sampleBeta(rng, a, b));
  const jstat = time((a, b) => jStat.beta.sample(a, b));
  if (Number.isNaN(sink)) throw new Error('NaN draw');
  return {
    croupier: Math.round(croupier * 10) / 10,
    jstat: Math.round(jstat * 10) / 10,
    speedup: Math.round((jstat / croupier) * 10) / 10,
  };
}

async function main(): Promise<void> {
  const replicates = 8;
  console.log(
    `croupier decide benchmark: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, node ${process.version}, load average ${os.loadavg()[0].toFixed(2)}`,
  );
  const { steps: batched, cpuUs } = await benchDecisions(true, replicates);
  console.log(
    `\none decision, ${SLOTS} slots, Thompson sampling, propensities integrated in line (µs, p50 / p99); the pool of 20,000 is narrowed to ${RETRIEVED} by retrieval`,
  );
  console.table(
    Object.fromEntries(
      Object.entries(batched).map(([n, steps]) => [
        Number(n) > 1000 ? `${n} items, ${scoredOf(Number(n))} scored` : `${n} candidates`,
        {
          ...Object.fromEntries(STEPS.map((s) => [s, `${steps[s].p50} / ${steps[s].p99}`])),
          'cpu µs/decision': cpuUs[n],
        },
      ]),
    ),
  );

  const sampling = Object.fromEntries(SIZES.map((n) => [`${n} draws`, benchSampling(n)]));
  console.log('\nBeta sampling step: croupier sampleBeta vs jStat.beta.sample (µs per candidate set)');
  console.table(sampling);

  const concurrency: Record<string, { decisionsPerSecond: number; p50: number; p99: number }> = {};
  for (const c of [1, 8, 32]) {
    concurrency[`c=${c} single runs`] = await benchConcurrency(false, c);
    concurrency[`c=${c} batched, next turn`] = await benchConcurrency(true, c, 0);
    concurrency[`c=${c} batched, wait ≤ 100 µs`] = await benchConcurrency(true, c, 100);
  }
  console.log('\nmicro-batching: concurrent decisions, 200 candidates (decisions/s, latency µs)');
  console.table(concurrency);

  // The gateway as configured (the default model scored inline), then with every model run on ONNX Runtime.
  const gateway: Record<string, GatewayTimes & { ratioToDecideP50: number }> = {};
  if (!args['no-gateway']) {
    const inProcess = batched['200'].total.p50;
    for (const [name, settings] of [
      ['default (model.inline=auto)', []],
      ['model.inline=off', ['model.inline=off']],
    ] as const) {
      const measured = await benchGateway(100, args.quick ? 10 : 30, [...settings]);
      gateway[name] = { ...measured, ratioToDecideP50: Math.round((measured.p50 / inProcess) * 100) / 100 };
      console.log(
        `\ninside croupier start, ${name} (200 items, one client, 10 slots, ${measured.rate} carousels/s, ${measured.replies} replies, ${measured.errors} errors): serverTimeUs p50 ${measured.p50} µs, p90 ${measured.p90}, p99 ${measured.p99}; p50 / this run's in-process p50 at 200 candidates (${inProcess} µs) = ${gateway[name].ratioToDecideP50}; mean µs per decision: ${Object.entries(
          measured.meanUs,
        )
          .map(([step, us]) => `${step} ${us}`)
          .join(', ')}`,
      );
    }
  }

  await mkdir('bench/results', { recursive: true });
  const result = {
    benchmark: 'decide',
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    },
    slots: SLOTS,
    policy: 'thompson',
    propensityReplicates: replicates,
    unit: 'µs',
    decision: batched,
    cpuUsPerDecision: cpuUs,
    sampling,
    concurrency,
    gateway,
  };
  await writeFile('bench/results/decide.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('\nwrote bench/results/decide.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
