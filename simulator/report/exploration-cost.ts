/**
 * Where the default policy's regret goes, beside greedy's, in one world: a diagnostic of what exploring costs
 * and what it buys. For each slate the default deals it also reads the slate greedy would have dealt from the
 * same posteriors (`SlatePolicy.meanSlate`) and the slate of a segment-clairvoyant policy that ranks by the true
 * click-through of the user's segment (the best any policy keeping counts per segment can do), all scored by
 * the world's expected clicks:
 *
 * - exploration cost: expected clicks of the mean slate minus those of the dealt slate, split into slates that
 *   only reorder the mean slate's items and slates that show other items;
 * - knowledge: the regret of the default's own mean slates, against greedy's regret (what exploring taught);
 * - the items exploration swapped in: how many the model's p̂ already ranks in the top slots, and how many have
 *   fewer than 20 examinations in their segment.
 *
 *   npx tsx simulator/report/exploration-cost.ts [scenario] [--seeds 11,1011] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { contenders, DEFAULT_LABEL } from '../bandit/contenders.ts';
import { type DealtSlate, runInProcess } from '../bandit/runner.ts';
import { totals } from '../report/series.ts';
import type { SimItem } from '../world/population.ts';
import { loadScenario } from '../world/scenario.ts';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { seeds: { type: 'string' }, json: { type: 'string' } },
});
const scenario = loadScenario(positionals[0] ?? 'cold-start');
const seeds = (flags.seeds ?? `${scenario.seed}`).split(',').map(Number);

/** Examinations below which an item counts as fresh. */
const FRESH = 20;

interface Diagnosis {
  seed: number;
  regret: { default: number; greedy: number; defaultMeanSlates: number; clairvoyant: number };
  explorationCost: { reorder: number; otherItems: number; firstHalf: number; secondHalf: number };
  swappedIn: { items: number; modelTopSlots: number; fresh: number };
}

function diagnose(seed: number): Diagnosis {
  const examined = new Map<string, number>();
  const segmentTruth = new Map<string, number>();
  const d: Diagnosis = {
    seed,
    regret: { default: 0, greedy: 0, defaultMeanSlates: 0, clairvoyant: 0 },
    explorationCost: { reorder: 0, otherItems: 0, firstHalf: 0, secondHalf: 0 },
    swappedIn: { items: 0, modelTopSlots: 0, fresh: 0 },
  };
  const truthOf = (dealt: DealtSlate, item: SimItem): number => {
    const key = `${dealt.user.segment}/${item.index}`;
    let q = segmentTruth.get(key);
    if (q === undefined) {
      let sum = 0;
      let count = 0;
      for (const u of dealt.world.users) {
        if (u.segment !== dealt.user.segment) continue;
        sum += dealt.world.model.attractiveness(u, item);
        count++;
      }
      q = sum / count;
      segmentTruth.set(key, q);
    }
    return q;
  };
  const onSlate = (dealt: DealtSlate) => {
    if (dealt.label !== DEFAULT_LABEL) return;
    const { world, user, candidates, slate } = dealt;
    const segment = user.segment;
    const model = world.model;
    const oracle = model.oracleClicks(user, candidates, world.slots);
    const mean = dealt.policy.meanSlate();
    const cost = model.expectedClicks(user, mean) - model.expectedClicks(user, slate);
    d.regret.defaultMeanSlates += oracle - model.expectedClicks(user, mean);
    const byTruth = candidates.map((item) => ({ item, q: truthOf(dealt, item) }));
    byTruth.sort((a, b) => b.q - a.q);
    const clairvoyant = byTruth.slice(0, world.slots).map((entry) => entry.item);
    d.regret.clairvoyant += oracle - model.expectedClicks(user, clairvoyant);
    if (dealt.at < world.durationSeconds / 2) d.explorationCost.firstHalf += cost;
    else d.explorationCost.secondHalf += cost;
    const inMean = new Set(mean);
    const swapped = slate.filter((item) => !inMean.has(item));
    if (swapped.length === 0) {
      d.explorationCost.reorder += cost;
    } else {
      d.explorationCost.otherItems += cost;
      const scores = candidates.map((item) => world.modelScore(segment, item)).sort((a, b) => b - a);
      const topSlots = scores[Math.min(world.slots, scores.length) - 1];
      for (const item of swapped) {
        d.swappedIn.items++;
        if (world.modelScore(segment, item) >= topSlots) d.swappedIn.modelTopSlots++;
        if ((examined.get(`${segment}/${item.index}`) ?? 0) < FRESH) d.swappedIn.fresh++;
      }
    }
    // Counted as the position-bias model counts them (a click proves the examination): close enough here.
    for (let s = 0; s < slate.length; s++) {
      const key = `${segment}/${slate[s].index}`;
      examined.set(key, (examined.get(key) ?? 0) + 1 / (s + 1));
    }
  };
  const report = runInProcess({
    scenario,
    seed,
    policies: contenders('examination', ['greedy']),
    onSlate,
  });
  for (const series of report.series) {
    const { regret } = totals(series);
    if (series.label === DEFAULT_LABEL) d.regret.default = regret;
    if (series.label === 'greedy') d.regret.greedy = regret;
  }
  return d;
}

const results = seeds.map(diagnose);
const f = (x: number) => x.toFixed(0);
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(0)} %`;
for (const d of results) {
  const r = d.regret;
  const c = d.explorationCost;
  const explored = c.reorder + c.otherItems;
  console.log(
    `${scenario.name} seed ${d.seed}: regret default ${f(r.default)}, greedy ${f(r.greedy)} (default ÷ greedy ${(r.default / r.greedy).toFixed(3)}); ` +
      `default's mean slates ${f(r.defaultMeanSlates)} (greedy − that: ${f(r.greedy - r.defaultMeanSlates)}, what exploring taught); ` +
      `segment-clairvoyant ${f(r.clairvoyant)} (greedy ÷ clairvoyant ${(r.greedy / r.clairvoyant).toFixed(3)})\n` +
      `  exploration cost ${f(explored)} = ${pct(explored, r.default)} of the default's regret (reordering only ${f(c.reorder)}, other items ${f(c.otherItems)}; ` +
      `first half ${f(c.firstHalf)}, second ${f(c.secondHalf)}); ${d.swappedIn.items} items swapped in: ` +
      `${pct(d.swappedIn.modelTopSlots, d.swappedIn.items)} in the model's top ${scenario.kind === 'world' ? scenario.slots : 1}, ` +
      `${pct(d.swappedIn.fresh, d.swappedIn.items)} with < ${FRESH} examinations`,
  );
}
if (flags.json !== undefined) writeFileSync(flags.json, `${JSON.stringify(results, null, 2)}\n`);
