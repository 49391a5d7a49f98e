/**
 * What logging candidate sets costs the running system (shadow tests read them): `croupier start` with a catalog
 * of 200 items, once per `log.candidateSampleRate`, all running side by side and loaded open loop at the same
 * rate at the same time, so that every setting sees the same state of a shared machine whose load changes by the
 * minute; repeated in rounds (a fresh start each). For each start it records the latency and the CPU of each
 * part per carousel (bench/cpu-parts.ts): the gateway's main thread, which copies the set when it decides and
 * builds the record after the reply; the broker and archive threads, which carry the bigger records; in all.
 *
 *   npm run bench:loadtest-candidates -- [--rate 300] [--step 20] [--sample-rates 0,1] [--rounds 2]
 *
 * Prints one line per start and a table of the medians over rounds per sample rate (with their ratio to the first),
 * with the load average; writes bench/results/loadtest-candidates.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runLoadTest } from '../load-tests/loadtest.ts';
import { cpuPartsProbe } from './cpu-parts.ts';
import { type CroupierProcess, startCroupierWithCatalog } from './croupier-process.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '300' },
    step: { type: 'string', default: '20' },
    'sample-rates': { type: 'string', default: '0,1' },
    rounds: { type: 'string', default: '2' },
  },
});
const RATE = Number(args.rate);
const STEP_SECONDS = Number(args.step);
const SAMPLE_RATES = args['sample-rates'].split(',').map(Number);
const ROUNDS = Number(args.rounds);
const ITEMS = 200;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

interface Sample {
  sampleRate: number;
  round: number;
  achievedRate: number;
  p50: number;
  p99: number;
  timeouts: number;
  gatewayUsPerCarousel: number;
  propensityUsPerCarousel: number;
  brokerUsPerCarousel: number;
  archiveUsPerCarousel: number;
  totalUsPerCarousel: number;
  loadAverage: string;
}

/** One load step against a started croupier, as a sample. */
async function measure(
  croupier: CroupierProcess,
  sampleRate: number,
  round: number,
  connections: number,
): Promise<Sample> {
  const result = await runLoadTest({
    url: croupier.url,
    rates: [RATE],
    stepSeconds: STEP_SECONDS,
    warmupSeconds: 5,
    connections,
    timeoutMs: 2000,
    slots: 10,
    users: 1000,
    mode: 'open',
    calibrate: false,
    stepProbe: cpuPartsProbe({ croupierPid: croupier.child.pid!, metricsUrl: croupier.metricsUrl }),
  });
  const step = result.steps[0];
  const p = step.parts ?? {};
  const perCarousel = (share: number | undefined) =>
    step.received > 0 ? Math.round(((share ?? 0) * step.durationMs * 1000) / step.received) : 0;
  return {
    sampleRate,
    round,
    achievedRate: step.achievedRate,
    p50: step.latency.p50,
    p99: step.latency.p99,
    timeouts: step.timeouts,
    gatewayUsPerCarousel: p.gatewayUsPerCarousel ?? 0,
    propensityUsPerCarousel: perCarousel(p.propensityCpu),
    brokerUsPerCarousel: perCarousel(p.brokerCpu),
    archiveUsPerCarousel: perCarousel(p.archiveCpu),
    totalUsPerCarousel: p.totalUsPerCarousel ?? 0,
    loadAverage: load(),
  };
}

const loadBefore = load();
const samples: Sample[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? SAMPLE_RATES : [...SAMPLE_RATES].reverse();
  const started: Array<{ sampleRate: number; croupier: CroupierProcess }> = [];
  try {
    for (const sampleRate of order) {
      const croupier = await startCroupierWithCatalog({
        items: ITEMS,
        settings: [`log.candidateSampleRate=${sampleRate}`],
      });
      started.push({ sampleRate, croupier });
    }
    // Every setting is loaded at once, so each sees the same machine: the shared machine's load changes by the
    // minute, far more than what is measured here.
    const measured = await Promise.all(
      started.map(({ sampleRate, croupier }) => measure(croupier, sampleRate, round, 16)),
    );
    for (const sample of measured) {
      samples.push(sample);
      console.error(
        `round ${round} sample rate ${sample.sampleRate}: ${sample.achievedRate}/s, p50 ${sample.p50} ms, p99 ${sample.p99} ms, gateway ${sample.gatewayUsPerCarousel} µs/carousel, total ${sample.totalUsPerCarousel} µs/carousel (load ${sample.loadAverage})`,
      );
    }
  } finally {
    await Promise.all(started.map(({ croupier }) => croupier.stop()));
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) / 2;
  return (s[Math.floor(h)] + s[Math.ceil(h)]) / 2;
};
const FIGURES = [
  ['p50', 'p50 ms'],
  ['p99', 'p99 ms'],
  ['gatewayUsPerCarousel', 'gateway µs/carousel'],
  ['propensityUsPerCarousel', 'propensity µs/carousel'],
  ['brokerUsPerCarousel', 'broker µs/carousel'],
  ['archiveUsPerCarousel', 'archive µs/carousel'],
  ['totalUsPerCarousel', 'total µs/carousel'],
] as const;
const medians = SAMPLE_RATES.map((sampleRate) => {
  const mine = samples.filter((s) => s.sampleRate === sampleRate);
  return {
    sampleRate,
    ...Object.fromEntries(FIGURES.map(([key]) => [key, median(mine.map((s) => s[key]))])),
  } as { sampleRate: number } & Record<(typeof FIGURES)[number][0], number>;
});
const head = ['log.candidateSampleRate', ...FIGURES.map(([, label]) => label)];
const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---:').join(' | ')} |`];
for (const m of medians) {
  const base = medians[0];
  const cell = (key: (typeof FIGURES)[number][0]) =>
    m === base || base[key] === 0 ? `${m[key]}` : `${m[key]} (×${(m[key] / base[key]).toFixed(2)})`;
  lines.push(`| ${[m.sampleRate, ...FIGURES.map(([key]) => cell(key))].join(' | ')} |`);
}
console.log(
  `${RATE} carousels/s of 10 slots from ${ITEMS} candidates, ${STEP_SECONDS} s per start, ${ROUNDS} round(s); medians per sample rate (load average before ${loadBefore}, after ${load()}):\n`,
);
console.log(lines.join('\n'));
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/loadtest-candidates.json',
  `${JSON.stringify({ rate: RATE, stepSeconds: STEP_SECONDS, items: ITEMS, loadBefore, loadAfter: load(), samples, medians }, null, 2)}\n`,
);
