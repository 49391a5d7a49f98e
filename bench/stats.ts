/**
 * The statistics library's hot paths: Beta draws per second of croupier's sampler against
 * `jStat.beta.sample` (what a user would reach for), one core, over posteriors like the gateway's
 * (α = m·p̂ + clicks, β = m·(1 − p̂) + impressions − clicks, some with shapes below 1); and the wall time of
 * `croupier analyze` (the library function, and the real command) over one million generated events.
 * Prints tables, writes bench/results/stats.json.
 *
 *   npm run bench:stats [-- --quick]
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { analyzeFile, type Metric } from '../src/analyze/index.ts';
import { sampleBeta } from '../src/stats/beta-sampler.ts';
import { createRng } from '../src/stats/rng.ts';

const require = createRequire(import.meta.url);
const jStat = require('jstat') as { beta: { sample(alpha: number, beta: number): number } };

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const DRAWS = args.quick ? 1_000_000 : 4_000_000;
const ROUNDS = args.quick ? 3 : 7;
const EVENTS = args.quick ? 200_000 : 1_000_000;

/** 4096 posteriors as the gateway's Thompson step sees them: model prior strength m = 20 plus counts. */
function posteriors(): { alpha: Float64Array; beta: Float64Array } {
  const rng = createRng(7);
  const n = 4096;
  const alpha = new Float64Array(n);
  const beta = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const pHat = 0.01 + 0.2 * rng.next();
    const impressions = Math.floor(rng.next() ** 3 * 50_000);
    const clicks = Math.floor(impressions * pHat * (0.5 + rng.next()));
    alpha[i] = 20 * pHat + clicks;
    beta[i] = 20 * (1 - pHat) + impressions - clicks;
  }
  return { alpha, beta };
}

/**
 * Millions of draws per second, the best of several rounds (the least disturbed by other work). Each
 * sampler gets its own loop, so neither pays for a call site the other made polymorphic.
 */
function bestRate(round: () => number): number {
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    if (Number.isNaN(round())) throw new Error('a draw was NaN');
    best = Math.max(best, DRAWS / ((performance.now() - start) / 1000) / 1e6);
  }
  return best;
}

function croupierRound(alpha: Float64Array, beta: Float64Array): number {
  const rng = createRng(1);
  const mask = alpha.length - 1;
  let sink = 0;
  for (let i = 0; i < DRAWS; i++) sink += sampleBeta(rng, alpha[i & mask], beta[i & mask]);
  return sink;
}

function jstatRound(alpha: Float64Array, beta: Float64Array): number {
  const mask = alpha.length - 1;
  let sink = 0;
  for (let i = 0; i < DRAWS; i++) sink += jStat.beta.sample(alpha[i & mask], beta[i & mask]);
  return sink;
}

async function writeEvents(path: string, n: number): Promise<void> {
  const rng = createRng(99);
  const out = createWriteStream(path);
  const arms = [
    { name: 'control', click: 0.1, watch: 30 },
    { name: 'treatment', click: 0.104, watch: 30.5 },
  ];
  let buffer = '';
  for (let i = 0; i < n; i++) {
    const arm = arms[rng.next() < 0.5 ? 0 : 1];
    const clicked = rng.next() < arm.click ? 1 : 0;
    const watch = Math.round(arm.watch * Math.exp(0.8 * rng.normal()) * 100) / 100;
    buffer += `{"variant":"${arm.name}","userId":"u${i}","clicked":${clicked},"watch_time":${watch}}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      buffer = '';
    }
  }
  out.end(buffer);
  await new Promise<void>((resolve, reject) => out.on('finish', () => resolve()).on('error', reject));
}

async function main(): Promise<void> {
  const { alpha, beta } = posteriors();
  const small = { alpha: alpha.map((a) => a / 40), beta: beta.map((b) => b / 40) };
  const sampler = {
    croupier: bestRate(() => croupierRound(alpha, beta)),
    jstat: bestRate(() => jstatRound(alpha, beta)),
    croupierSmallShapes: bestRate(() => croupierRound(small.alpha, small.beta)),
    jstatSmallShapes: bestRate(() => jstatRound(small.alpha, small.beta)),
  };
  console.log(`Beta draws, one core, best of ${ROUNDS} rounds of ${DRAWS.toLocaleString()} draws`);
  console.table({
    'gateway posteriors': {
      'croupier (M/s)': +sampler.croupier.toFixed(2),
      'jStat (M/s)': +sampler.jstat.toFixed(2),
      speed_up: +(sampler.croupier / sampler.jstat).toFixed(2),
    },
    'same ÷ 40 (some shapes < 1)': {
      'croupier (M/s)': +sampler.croupierSmallShapes.toFixed(2),
      'jStat (M/s)': +sampler.jstatSmallShapes.toFixed(2),
      speed_up: +(sampler.croupierSmallShapes / sampler.jstatSmallShapes).toFixed(2),
    },
  });

  const dir = await mkdtemp(join(os.tmpdir(), 'croupier-bench-stats-'));
  const analyze: Record<string, number> = {};
  try {
    const path = join(dir, 'events.jsonl');
    await writeEvents(path, EVENTS);
    for (const metric of ['ctr', 'watch_time'] as Metric[]) {
      const start = performance.now();
      await analyzeFile({ path, metric });
      analyze[`library ${metric} (s)`] = +((performance.now() - start) / 1000).toFixed(2);
    }
    const start = performance.now();
    execFileSync('node', ['bin/croupier.js', 'analyze', '--input', path, '--metric', 'ctr', '--json'], {
      stdio: 'ignore',
    });
    analyze['croupier analyze --metric ctr (s, incl. start-up)'] = +(
      (performance.now() - start) /
      1000
    ).toFixed(2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`\nanalyze over ${EVENTS.toLocaleString()} JSON-lines events`);
  console.table(analyze);

  const results = {
    when: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model,
    betaDrawsPerSecondMillions: sampler,
    speedUpOverJstat: +(sampler.croupier / sampler.jstat).toFixed(2),
    analyzeSeconds: { events: EVENTS, ...analyze },
  };
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL('./results/stats.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
}

await main();
