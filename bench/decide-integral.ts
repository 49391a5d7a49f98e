/**
 * The Thompson propensity integral (src/bandit/thompson-integral.ts) against its version at a git ref, in one
 * process, alternating: CPU time per carousel of each on the same posteriors, their ratio per round, and the
 * largest difference between their propensities. The posteriors: the slates bench:decide deals (the default model,
 * 10 slots, Thompson sampling) at 50, 200 and 1,000 candidates, and 200-candidate states that mix mature arms
 * (narrow posteriors) with cold ones (wide), drawn as test/decision/propensity-integral.test.ts draws them, and
 * crowded ones (a young catalog shown often and never clicked, as the loop holds under bench:loadtest). The
 * ref's src/ is unpacked into a temporary folder (git archive) and imported from there. Prints a table with the
 * load average, writes bench/results/decide-integral.json.
 *
 *   npx tsx bench/decide-integral.ts [--against <ref>] [--rounds 9]
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SlateExplorer } from '../src/bandit/explorer.ts';
import * as current from '../src/bandit/thompson-integral.ts';
import { createDecider } from '../src/decision/decider.ts';
import { type OffloadJob, PropensityOffload } from '../src/decision/propensity-offload.ts';
import { silentLogger } from '../src/log/logger.ts';
import { createOnnxScorer } from '../src/scoring/onnx-scorer.ts';
import { createRng } from '../src/stats/rng.ts';
import { DECIDING, REQUEST, world } from './decide-world.ts';

const { values: args } = parseArgs({
  options: {
    /** The version to compare with; by default the integral before the top-down sweep. */
    against: { type: 'string', default: 'c92fa45' },
    rounds: { type: 'string', default: '9' },
  },
});
const ROUNDS = Number(args.rounds);
const SLOTS = 10;
/** CPU time each version gets per round and state set, ms. */
const BLOCK_MS = 150;

type Integral = Pick<typeof current, 'IntegralScratch' | 'thompsonPropensitiesByIntegration'>;

interface Slate {
  n: number;
  k: number;
  alpha: Float64Array;
  beta: Float64Array;
  shown: Int32Array;
}

/** Keeps a copy of every slate the decider hands over and refuses it, so the decider integrates it in place. */
class CapturingOffload extends PropensityOffload {
  readonly slates: Slate[] = [];

  override submit(job: OffloadJob): boolean {
    this.slates.push({
      n: job.n,
      k: job.count,
      alpha: job.alpha.slice(0, job.n),
      beta: job.beta.slice(0, job.n),
      shown: job.shown.slice(0, job.count),
    });
    return false;
  }
}

/** `count` slates bench:decide deals from its world of n items. */
async function dealtSlates(n: number, count: number): Promise<Slate[]> {
  const scorer = await createOnnxScorer({ registryDir: 'models', logger: silentLogger() });
  const offload = new CapturingOffload({ logger: silentLogger() });
  const decider = createDecider({
    ...DECIDING,
    scorer,
    logger: silentLogger(),
    deferPropensities: true,
    propensityOffload: offload,
    maxCandidates: n,
  });
  const view = world(n);
  for (let i = 0; i < count; i++) {
    const decision = await decider.decide(REQUEST, view);
    decider.completePropensitiesThen(decision, () => {});
  }
  await decider.close();
  await scorer.close();
  return offload.slates;
}

/** 24 states of 200 candidates, mostly mature, mostly cold or mixed in turn, each with a Thompson slate. */
function mixedSlates(): Slate[] {
  const n = 200;
  const rng = createRng(2027);
  const slates: Slate[] = [];
  for (let t = 0; t < 24; t++) {
    const explorer = new SlateExplorer({ replicates: 8, delta: 0.05 }, n);
    const scores = new Float32Array(n);
    const coldShare = [0.3, 0, 0.8][t % 3];
    for (let i = 0; i < n; i++) {
      scores[i] = 0.01 + 0.2 * rng.next() ** 2;
      const seen = rng.next() < coldShare ? Math.round(50 * rng.next()) : Math.round(100 * 300 ** rng.next());
      explorer.impressions[i] = seen;
      explorer.clicks[i] = Math.round(seen * scores[i] * (0.6 + 0.8 * rng.next()));
    }
    explorer.preparePosteriors(scores, 20, n);
    explorer.rank('thompson', n, SLOTS, { epsilon: 0.1, ucbC: 1 }, rng);
    const alpha = explorer.alpha.slice(0, n);
    const beta = explorer.beta.slice(0, n);
    slates.push({ n, k: SLOTS, alpha, beta, shown: explorer.order.slice(0, SLOTS) });
  }
  return slates;
}

/**
 * 24 states of 200 candidates as the loop under `bench:loadtest` holds them (its clients never click): a crowd of
 * near-equal young arms (α 2.5–3, β 55–75 in the loop; here p̂ 0.125–0.15 and 40–55 examinations) and 10 others,
 * each with a Thompson slate. The crowd's order statistics change faster than any one posterior, so the integral
 * refines its grid there.
 */
function crowdedSlates(): Slate[] {
  const n = 200;
  const rng = createRng(2028);
  const slates: Slate[] = [];
  for (let t = 0; t < 24; t++) {
    const explorer = new SlateExplorer({ replicates: 8, delta: 0.05 }, n);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const young = i < n - 10;
      scores[i] = young ? 0.125 + 0.025 * rng.next() : 0.05 + 0.15 * rng.next();
      explorer.impressions[i] = Math.round(young ? 40 + 15 * rng.next() : 50 + 100 * rng.next());
      explorer.clicks[i] = young ? 0 : Math.round(explorer.impressions[i] * scores[i] * rng.next());
    }
    explorer.preparePosteriors(scores, 20, n);
    explorer.rank('thompson', n, SLOTS, { epsilon: 0.1, ucbC: 1 }, rng);
    slates.push({
      n,
      k: SLOTS,
      alpha: explorer.alpha.slice(0, n),
      beta: explorer.beta.slice(0, n),
      shown: explorer.order.slice(0, SLOTS),
    });
  }
  return slates;
}

/** The integral at `ref`, imported from its src/ unpacked into `dir`. */
async function integralAt(ref: string, dir: string): Promise<Integral> {
  const archive = path.join(dir, 'src.tar');
  execFileSync('git', ['archive', '--output', archive, ref, 'src']);
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  return (await import(pathToFileURL(path.join(dir, 'src/bandit/thompson-integral.ts')).href)) as Integral;
}

/** CPU µs per carousel of `integral` over `slates`, run for about BLOCK_MS. */
function cpuPerCarousel(
  integral: Integral,
  scratch: InstanceType<Integral['IntegralScratch']>,
  slates: Slate[],
) {
  const out = new Float64Array(SLOTS);
  const start = process.cpuUsage();
  const wall = performance.now();
  let calls = 0;
  while (performance.now() - wall < BLOCK_MS) {
    for (const s of slates)
      integral.thompsonPropensitiesByIntegration(s.alpha, s.beta, s.n, s.shown, s.k, scratch, out);
    calls += slates.length;
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[values.length >> 1];

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'croupier-integral-'));
  const loadBefore = os.loadavg();
  try {
    const previous = await integralAt(args.against, dir);
    const sets: Record<string, Slate[]> = {
      'dealt, 50 candidates': await dealtSlates(50, 100),
      'dealt, 200 candidates': await dealtSlates(200, 100),
      'dealt, 1,000 candidates': await dealtSlates(1000, 50),
      'mixed mature/cold, 200': mixedSlates(),
      'crowded young, 200': crowdedSlates(),
    };
    const rows: Record<string, unknown>[] = [];
    for (const [name, slates] of Object.entries(sets)) {
      const before = new previous.IntegralScratch();
      const after = new current.IntegralScratch();
      const a = new Float64Array(SLOTS);
      const b = new Float64Array(SLOTS);
      let difference = 0;
      let nodesBefore = 0;
      let nodesAfter = 0;
      for (const s of slates) {
        nodesBefore += previous.thompsonPropensitiesByIntegration(
          s.alpha,
          s.beta,
          s.n,
          s.shown,
          s.k,
          before,
          a,
        ).nodes;
        nodesAfter += current.thompsonPropensitiesByIntegration(
          s.alpha,
          s.beta,
          s.n,
          s.shown,
          s.k,
          after,
          b,
        ).nodes;
        for (let i = 0; i < s.k; i++) difference = Math.max(difference, Math.abs(a[i] - b[i]));
      }
      cpuPerCarousel(previous, before, slates);
      cpuPerCarousel(current, after, slates);
      const old: number[] = [];
      const now: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        old.push(cpuPerCarousel(previous, before, slates));
        now.push(cpuPerCarousel(current, after, slates));
      }
      const ratios = now.map((t, i) => t / old[i]);
      rows.push({
        states: name,
        slates: slates.length,
        [`${args.against} µs`]: Math.round(median(old)),
        'now µs': Math.round(median(now)),
        ratio: Number(median(ratios).toFixed(3)),
        'ratio range': `${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}`,
        nodes: `${Math.round(nodesBefore / slates.length)} → ${Math.round(nodesAfter / slates.length)}`,
        'largest |Δp|': Number(difference.toExponential(2)),
      });
    }
    const loadAfter = os.loadavg();
    const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
    console.log(
      `\nThompson propensity integral, now against ${args.against}: CPU µs per carousel (median of ${ROUNDS} rounds, alternating), load average ${load(loadBefore)} before, ${load(loadAfter)} after`,
    );
    console.table(rows);
    await mkdir('bench/results', { recursive: true });
    await writeFile(
      'bench/results/decide-integral.json',
      `${JSON.stringify({ against: args.against, rounds: ROUNDS, loadBefore, loadAfter, rows }, null, 2)}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
