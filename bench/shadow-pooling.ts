/**
 * Why UCB1's shadow estimates stay noisy, and why pooling an item's outcomes over decisions does not fix it. The
 * position-based estimators (src/shadow/position-based.ts) weigh each impression by π_b(a)/μ_b(a) of its own
 * decision; for UCB1, which deals first the items the logging Thompson sampling shows least, μ_b is small and the
 * effective sample a few per cent of the impressions. Under the position-based click model with an attractiveness
 * q that depends on the decision only through a cell k (the item and a quantile bin of its p̂), an item's weight
 * could be pooled over every decision of its cell. This benchmark measures two such estimators against each
 * candidate's on-policy truth in the proof world (simulator/shadow/proof-world.ts), point estimates only:
 *
 * - pooled: Σ_k E_π(k)·R_k / Ê_k / N, with E_π(k) the candidate's examination-weighted exposure of cell k summed
 *   over its decisions, R_k the cell's logged clicks and Ê_k their examination Σ b(s_j): each cell's click rate
 *   fitted on the whole log (a direct method with a per-cell position-based reward model);
 * - forward: each decision's exposure times the cell's click rate estimated only from that decision and the
 *   later ones (Σ r/μ_b over Σ b(s)/μ_b, the SNIPS form; and Σ (κp̂ + (r − b(s)κp̂)/μ_b) / n, the DR form), whose
 *   noise the candidate's choice at that decision cannot have seen.
 *
 * The counts every policy ranks by are the log's own clicks, so a cell's fitted rate is low where the logger was
 * unlucky, and a candidate that deals what the logger shows least (UCB1) deals exactly those cells: `pooled` is
 * biased, with the sign of how the candidate's exposure follows the logger's luck. `forward` avoids that and pays
 * with the noise of the last decisions' short futures.
 *
 *   npx tsx bench/shadow-pooling.ts [--first-seed 3001] [--seeds 40] [--carousels 10000] [--bins 1,8]
 *     [--out bench/results/shadow-pooling.jsonl]
 *
 * Prints, per bins × candidate × estimator, the mean relative bias, the sd of the relative error and the mean
 * relative error over the seeds, and writes one JSON line per seed, bins and candidate.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { PROOF_CANDIDATES, runProofSeed } from '../simulator/shadow/proof-world.ts';
import { textTable } from '../src/report/charts.ts';
import { evaluateShadow } from '../src/shadow/evaluate-shadow.ts';
import type { LoggedCarousel } from '../src/shadow/logged-carousel.ts';
import { loggedPolicy, PolicyReplay, resolvePolicy } from '../src/shadow/policy-replay.ts';
import { createRng } from '../src/stats/rng.ts';
import { mean, standardDeviation } from './seed-summary.ts';

const { values: args } = parseArgs({
  options: {
    'first-seed': { type: 'string', default: '3001' },
    seeds: { type: 'string', default: '40' },
    carousels: { type: 'string', default: '10000' },
    bins: { type: 'string', default: '1,8' },
    out: { type: 'string', default: 'bench/results/shadow-pooling.jsonl' },
  },
});
const FIRST = Number(args['first-seed']);
const SEEDS = Number(args.seeds);
const CAROUSELS = Number(args.carousels);
const BINS = args.bins.split(',').map(Number);
/** Slates dealt per decision to estimate a sampling candidate's exposure of every candidate item. */
const EXPOSURE_DRAWS = 32;
const EXPOSURE_STREAM = 104_729;
const PER_DECISION = ['ips', 'snips', 'dr', 'pbm-ips', 'pbm-snips', 'pbm-dr'] as const;
const POOLED = ['pooled', 'forward-snips', 'forward-dr'] as const;

/** Cell of each candidate item on each decision: item × quantile bin of its p̂ (equal p̂ never split). */
function scoreCells(
  carousels: readonly LoggedCarousel[],
  bins: number,
): { cells: number; cellOf: Int32Array[] } {
  const byItem = new Map<string, number[]>();
  for (const c of carousels) {
    const set = c.candidates!;
    set.itemIds.forEach((id, i) => {
      const list = byItem.get(id) ?? [];
      if (list.length === 0) byItem.set(id, list);
      list.push(set.scores[i]);
    });
  }
  const cellOfScore = new Map<string, Map<number, number>>();
  let cells = 0;
  for (const [id, values] of byItem) {
    values.sort((a, b) => a - b);
    const map = new Map<number, number>();
    const first = cells;
    let bin = 0;
    for (let k = 0; k < values.length; k++) {
      if (map.has(values[k])) continue;
      if (k >= ((bin + 1) * values.length) / bins && bin < bins - 1) bin++;
      map.set(values[k], first + bin);
      cells = Math.max(cells, first + bin + 1);
    }
    cellOfScore.set(id, map);
  }
  const cellOf = carousels.map((c) => {
    const set = c.candidates!;
    return Int32Array.from(set.itemIds, (id, i) => cellOfScore.get(id)!.get(set.scores[i])!);
  });
  return { cells, cellOf };
}

mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, '');
const started = Date.now();
const loadBefore = loadavg();
const records: { bins: number; label: string; relative: Record<string, number> }[] = [];
for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
  const run = runProofSeed(seed, CAROUSELS);
  const carousels = run.carousels;
  const report = evaluateShadow(carousels, PROOF_CANDIDATES, { replicates: 0, seed, intervalsFor: [] });
  if (report.carousels.evaluated !== carousels.length) throw new Error('every proof carousel logs its set');
  const b = report.rewardModel.positionBias;
  const width = b.length;
  // The logger's examination-weighted exposure μ_b of each shown impression, and each decision's candidate index.
  const replay = new PolicyReplay();
  const loggingRng = createRng(seed);
  const exposure: Float64Array[] = [];
  const shownOf: Int32Array[] = [];
  const row = new Float64Array(width * width);
  let rewards = 0;
  let modelled = 0;
  let impressions = 0;
  for (const c of carousels) {
    const set = c.candidates!;
    const shown = Int32Array.from(c.items, (item) => set.itemIds.indexOf(item.itemId));
    replay.load(set, set.scores, loggedPolicy(c.policy, set));
    replay.slotRows(shown, shown.length, loggingRng, row, width);
    exposure.push(
      Float64Array.from(shown, (_, t) => {
        let mu = 0;
        for (let s = 0; s < width; s++) mu += row[t * width + s] * b[s];
        return mu;
      }),
    );
    shownOf.push(shown);
    c.items.forEach((item, s) => {
      rewards += c.clicks[s];
      modelled += b[s] * item.score;
    });
    impressions += shown.length;
  }
  const kappa = rewards / modelled;
  // Each candidate's examination-weighted exposure of every candidate item on every decision.
  const targets = PROOF_CANDIDATES.map((spec, k) => {
    const rng = createRng((seed + EXPOSURE_STREAM + 7919 * (k + 1)) >>> 0);
    return carousels.map((c) => {
      const set = c.candidates!;
      replay.load(set, set.scores, resolvePolicy(spec, loggedPolicy(c.policy, set)));
      const deals = spec.policy === 'greedy' || spec.policy === 'ucb1' ? 1 : EXPOSURE_DRAWS;
      const out = new Float64Array(set.itemIds.length);
      for (let d = 0; d < deals; d++) {
        const order = replay.deal(c.items.length, rng);
        for (let s = 0; s < c.items.length; s++) out[order[s]] += b[s] / deals;
      }
      return out;
    });
  });
  for (const bins of BINS) {
    const { cells, cellOf } = scoreCells(carousels, bins);
    PROOF_CANDIDATES.forEach((spec, k) => {
      const target = targets[k];
      // pooled: E_π, R, Ê per cell over the whole log.
      const whole = new Float64Array(3 * cells);
      carousels.forEach((c, t) => {
        target[t].forEach((x, i) => {
          whole[3 * cellOf[t][i]] += x;
        });
        shownOf[t].forEach((i, s) => {
          whole[3 * cellOf[t][i] + 1] += c.clicks[s];
          whole[3 * cellOf[t][i] + 2] += b[s];
        });
      });
      let pooled = 0;
      for (let cell = 0; cell < cells; cell++) {
        if (whole[3 * cell + 2] > 0) pooled += (whole[3 * cell] * whole[3 * cell + 1]) / whole[3 * cell + 2];
      }
      // forward: per cell, decisions n, Σ r/μ, Σ b/μ, Σ (κp̂ + (r − bκp̂)/μ) from the decision on.
      const ahead = new Float64Array(4 * cells);
      let snips = 0;
      let dr = 0;
      for (let t = carousels.length - 1; t >= 0; t--) {
        const c = carousels[t];
        const set = c.candidates!;
        cellOf[t].forEach((cell, i) => {
          ahead[4 * cell] += 1;
          ahead[4 * cell + 3] += kappa * set.scores[i];
        });
        shownOf[t].forEach((i, s) => {
          const mu = exposure[t][s];
          if (!(mu > 0)) return;
          const cell = 4 * cellOf[t][i];
          ahead[cell + 1] += c.clicks[s] / mu;
          ahead[cell + 2] += b[s] / mu;
          ahead[cell + 3] += (c.clicks[s] - b[s] * kappa * c.items[s].score) / mu;
        });
        target[t].forEach((x, i) => {
          if (x === 0) return;
          const cell = 4 * cellOf[t][i];
          if (ahead[cell + 2] > 0) snips += (x * ahead[cell + 1]) / ahead[cell + 2];
          dr += (x * ahead[cell + 3]) / ahead[cell];
        });
      }
      const truth = run.truth[spec.label];
      const e = report.candidates[k].metrics.ctr.estimates;
      const estimates: Record<string, number> = {
        ...Object.fromEntries(PER_DECISION.map((name) => [name, e[name].estimate])),
        pooled: pooled / impressions,
        'forward-snips': snips / impressions,
        'forward-dr': dr / impressions,
      };
      const relative = Object.fromEntries(
        Object.entries(estimates).map(([name, x]) => [name, (x - truth) / truth]),
      );
      records.push({ bins, label: spec.label, relative });
      appendFileSync(
        args.out,
        `${JSON.stringify({
          seed,
          bins,
          cells,
          candidate: spec.label,
          truth,
          estimates,
          effectiveSampleShare: report.candidates[k].diagnostics.effectiveSampleSize / impressions,
          positionBasedEffectiveSampleShare:
            report.candidates[k].diagnostics.positionBased.effectiveSampleSize / impressions,
        })}\n`,
      );
    });
  }
  process.stderr.write(
    `seed ${seed} (${seed - FIRST + 1}/${SEEDS}) ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
}
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const rows: string[][] = [];
for (const bins of BINS) {
  for (const spec of PROOF_CANDIDATES) {
    const mine = records.filter((r) => r.bins === bins && r.label === spec.label);
    for (const name of bins === BINS[0] ? [...PER_DECISION, ...POOLED] : POOLED) {
      const errors = mine.map((r) => r.relative[name]);
      rows.push([
        PER_DECISION.includes(name as never) ? '-' : String(bins),
        spec.label,
        name.toUpperCase(),
        pct(mean(errors)),
        pct(standardDeviation(errors)),
        pct(mean(errors.map(Math.abs))),
      ]);
    }
  }
}
console.log(
  textTable(
    ['bins', 'candidate', 'estimator', 'mean rel. bias', 'sd of rel. error', 'mean rel. error'],
    rows,
  ),
);
console.log(
  `seeds ${FIRST}-${FIRST + SEEDS - 1}, ${CAROUSELS} carousels, ${((Date.now() - started) / 1000).toFixed(0)} s, load ${loadBefore[0].toFixed(1)} -> ${loadavg()[0].toFixed(1)}; wrote ${args.out}`,
);
