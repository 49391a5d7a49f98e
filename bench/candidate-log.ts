/**
 * What candidate-set logging adds to the event log: the Avro bytes of one Carousel record (10 slots, with feature
 * rows of 16 floats) without and with its candidate set, for pools of 100, 1,000 and 10,000 candidates, and the
 * mean added per carousel at log.candidateSampleRate 0.1 and 1; and the CPU time of encoding the record without and
 * with its set (this process's CPU time, median of 31 alternating batches, the load average printed beside it). Item ids
 * like `item-00042`; counts and p̂ drawn from a seeded generator. The bytes are deterministic; prints a table and
 * writes bench/results/candidate-log.json.
 *
 *   npm run bench:candidate-log
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { textTable } from '../src/report/charts.ts';
import { createRng } from '../src/stats/rng.ts';
import { type CandidateSet, type Carousel, loadSchemas } from '../streams/schemas/index.ts';

const SLOTS = 10;
const WIDTH = 16;
const rng = createRng(11);
const type = loadSchemas().Carousel;
const id = (i: number) => `item-${String(i).padStart(5, '0')}`;

function carousel(candidates: CandidateSet | null): Carousel {
  return {
    eventId: '3f0e8a52-6c1e-4a7b-9a63-2d4f0f0b9c11',
    requestId: 'r-000123456',
    userId: 'u00042',
    policy: 'thompson',
    modelVersion: 'default-1',
    experiment: null,
    variant: null,
    segment: 'mobile|casual',
    context: { device: 'mobile', country: 'DE', page: 'home' },
    timestamp: 1_765_000_000_000,
    shadowPolicy: null,
    featureSpecHash: `sha256:${'a'.repeat(64)}`,
    items: Array.from({ length: SLOTS }, (_, s) => ({
      itemId: id(s * 7),
      slot: s,
      score: rng.next() * 0.2,
      propensity: rng.next(),
      shadowSlot: null,
      shadowPropensity: null,
      features: Array.from({ length: WIDTH }, () => Math.fround(rng.next())),
    })),
    candidates,
  };
}

function candidateSet(n: number): CandidateSet {
  const impressions = Array.from({ length: n }, () => Math.floor(rng.next() ** 2 * 50_000));
  return {
    itemIds: Array.from({ length: n }, (_, i) => id(i)),
    scores: Array.from({ length: n }, () => Math.fround(rng.next() * 0.2)),
    impressions,
    clicks: impressions.map((m) => Math.floor(m * rng.next() * 0.1)),
    priorStrength: 20,
    temperature: 0.3,
    temperingImpressions: 500,
    epsilon: 0.1,
    ucbC: 1,
    shadowModelVersion: null,
    shadowScores: null,
  };
}

/** Median µs to encode each record, from batches alternating between them (so both see the same machine). */
function encodeMicros(records: readonly Carousel[]): number[] {
  const BATCHES = 31;
  const per = Math.max(20, Math.round(2_000_000 / type.toBuffer(records[records.length - 1]).length));
  const times = records.map(() => [] as number[]);
  for (let b = 0; b < BATCHES; b++) {
    records.forEach((record, k) => {
      const started = process.cpuUsage();
      for (let i = 0; i < per; i++) type.toBuffer(record);
      const used = process.cpuUsage(started);
      times[k].push((used.user + used.system) / per);
    });
  }
  return times.map((t) => t.sort((x, y) => x - y)[BATCHES >> 1]);
}

const without = carousel(null);
const base = type.toBuffer(without).length;
const rows = [100, 200, 1000, 10_000].map((n) => {
  const record = carousel(candidateSet(n));
  const withSet = type.toBuffer(record).length;
  const added = withSet - base;
  const [encodeUs, encodeWithSetUs] = encodeMicros([without, record]);
  return {
    encodeUs,
    encodeWithSetUs,
    candidates: n,
    carouselBytes: base,
    withCandidateSet: withSet,
    added,
    perCandidate: added / n,
    at01: 0.1 * added,
    at1: added,
  };
});
console.log(
  textTable(
    [
      'candidates',
      'Carousel bytes',
      'with candidate set',
      'added',
      'per candidate',
      'added per carousel at rate 0.1',
      'encode µs',
      'with candidate set',
    ],
    rows.map((r) => [
      r.candidates,
      r.carouselBytes,
      r.withCandidateSet,
      r.added,
      r.perCandidate.toFixed(1),
      r.at01.toFixed(0),
      r.encodeUs.toFixed(1),
      r.encodeWithSetUs.toFixed(1),
    ]),
  ),
);
mkdirSync(join('bench', 'results'), { recursive: true });
writeFileSync(
  join('bench', 'results', 'candidate-log.json'),
  `${JSON.stringify({ slots: SLOTS, featureWidth: WIDTH, rows, loadAverage: loadavg() }, null, 2)}\n`,
);
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
