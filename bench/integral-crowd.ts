/**
 * What the Thompson propensity integral costs on a crowd of never-clicked arms as it ages: 200 candidates with the
 * prior's α (0.6–1.8, as 20·p̂ for p̂ near 0.05) and β around B (±20 %), the state `bench:loadtest` drives the
 * catalog into (its clients never click, so every arm's β grows with its impressions while α stays). Ten shown
 * items, the top ten by mean; CPU µs per carousel in this process, median of three rounds per B, 1,500 carousels a
 * round over 50 states.
 *
 *   npx tsx bench/integral-crowd.ts [B=100,500,1500]
 */
import { loadavg } from 'node:os';
import { IntegralScratch, thompsonPropensitiesByIntegration } from '../src/bandit/thompson-integral.ts';
import { createRng } from '../src/stats/rng.ts';

const N = 200;
const K = 10;
const CAROUSELS = 1500;
const betas = (process.argv[2] ?? '100,500,1500').split(',').map(Number);

function crowd(b: number, seed: number) {
  const rng = createRng(seed);
  return Array.from({ length: 50 }, () => {
    const alpha = new Float64Array(N);
    const beta = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      alpha[i] = 0.6 + rng.next() * 1.2;
      beta[i] = b * (0.8 + rng.next() * 0.4);
    }
    const mean = (i: number) => alpha[i] / (alpha[i] + beta[i]);
    const order = [...Array(N).keys()].sort((x, y) => mean(y) - mean(x));
    return { alpha, beta, shown: Int32Array.from(order.slice(0, K)) };
  });
}

const scratch = new IntegralScratch();
const out = new Float64Array(K);
const load = loadavg()[0].toFixed(2);
const rows = [];
for (const b of betas) {
  const states = crowd(b, 11);
  const each = (count: number) => {
    for (let i = 0; i < count; i++) {
      const s = states[i % states.length];
      thompsonPropensitiesByIntegration(s.alpha, s.beta, N, s.shown, K, scratch, out, undefined);
    }
  };
  each(300);
  const rounds = [];
  for (let r = 0; r < 3; r++) {
    const cpu = process.cpuUsage();
    each(CAROUSELS);
    const used = process.cpuUsage(cpu);
    rounds.push((used.user + used.system) / CAROUSELS);
  }
  rounds.sort((x, y) => x - y);
  rows.push({
    beta: b,
    'µs per carousel': Math.round(rounds[1]),
    range: `${Math.round(rounds[0])}–${Math.round(rounds[2])}`,
  });
}
console.log(`the propensity integral on 200 never-clicked arms, load average ${load} before`);
console.table(rows);
