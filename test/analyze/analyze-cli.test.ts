import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import avro from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AnalysisReport, analyzeFile } from '../../src/analyze/index.ts';
import {
  anovaOneWay,
  betaBinomialAB,
  ctr,
  mannWhitneyU,
  msprtTwoProportions,
  pairwiseTests,
  proportionSummary,
  proportionZTest,
  relativeLift,
  sampleRatioMismatch,
  summarize,
  welchTTest,
} from '../../src/stats/index.ts';
import { nestedRecords } from '../support/avro-types.ts';

const run = promisify(execFile);
const FIXTURES = new URL('../fixtures/analyze/', import.meta.url).pathname;

/** What `analyze --json` prints: the report and what was read. */
type CliAnalysis = AnalysisReport & { input: { records: number; skipped: number } };

async function analyze(...args: string[]): Promise<CliAnalysis> {
  const { stdout } = await run('node', ['bin/croupier.js', 'analyze', ...args, '--json'], {
    maxBuffer: 1 << 24,
  });
  return JSON.parse(stdout);
}

/** The fixture's events, parsed here independently of the command's reader. */
function jsonlEvents(): Array<{ variant: string; clicked: number; watch_time: number }> {
  return readFileSync(`${FIXTURES}experiment.jsonl`, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

function csvEvents(): Array<{ variant: string; watch_time: number }> {
  const [, ...lines] = readFileSync(`${FIXTURES}experiment-3way.csv`, 'utf8').trim().split('\n');
  return lines.map((l) => {
    const [variant, , , watch] = l.split(',');
    return { variant, watch_time: Number(watch) };
  });
}

describe('croupier analyze', () => {
  // Each run of the real command starts node and tsx (seconds): run the three once, side by side.
  let ctrJsonl: CliAnalysis;
  let watchAvro: CliAnalysis;
  let watchCsv: CliAnalysis;
  beforeAll(async () => {
    [ctrJsonl, watchAvro, watchCsv] = await Promise.all([
      analyze('--input', `${FIXTURES}experiment.jsonl`, '--metric', 'ctr'),
      analyze('--input', `${FIXTURES}experiment.avro`, '--metric', 'watch_time'),
      analyze(
        '--input',
        `${FIXTURES}experiment-3way.csv`,
        '--metric',
        'watch_time',
        '--method',
        'frequentist',
      ),
    ]);
  });

  it('reports CTR of a JSON-lines experiment with exactly the library figures', async () => {
    const events = jsonlEvents();
    const count = (v: string) => {
      const of = events.filter((e) => e.variant === v);
      return { successes: of.reduce((s, e) => s + e.clicked, 0), trials: of.length };
    };
    const c = count('control');
    const t = count('treatment');
    const out = ctrJsonl;

    expect(out.input).toEqual({ records: events.length, skipped: 0 });
    expect(out.control).toBe('control');
    expect(out.variants.map((v: { name: string; n: number }) => [v.name, v.n])).toEqual([
      ['control', c.trials],
      ['treatment', t.trials],
    ]);
    expect(out.variants[1].ci).toEqual(ctr(t.successes, t.trials).ci);
    expect(out.srm.pValue).toBe(sampleRatioMismatch([c.trials, t.trials]).pValue);
    const z = proportionZTest([t.successes, c.successes], [t.trials, c.trials]);
    expect(out.tests[0]).toMatchObject({
      statistic: z.statistic,
      pValue: z.pValue,
      estimate: z.estimate,
      ci: z.ci,
    });
    const seq = msprtTwoProportions(t, c);
    expect(out.tests[1]).toMatchObject({
      name: 'mSPRT (always valid)',
      statistic: seq.statistic,
      pValue: seq.pValue,
    });
    const lift = relativeLift(
      proportionSummary(t.successes, t.trials),
      proportionSummary(c.successes, c.trials),
    );
    expect(out.lifts[0]).toEqual({ name: 'treatment', estimate: lift.estimate, ci: lift.ci });
    const ab = betaBinomialAB([
      { name: 'control', ...c },
      { name: 'treatment', ...t },
    ]);
    expect(out.bayesian.map((b: { probabilityBest: number }) => b.probabilityBest)).toEqual(
      ab.variants.map((v) => v.probabilityBest),
    );
    expect(out.bayesian[1].expectedLoss).toBe(ab.variants[1].expectedLoss);
    expect(out.verdict).toMatch(/^treatment beats control: \+24\.2% ctr/);
  });

  it('reads the same experiment from an Avro container file: Welch and Mann–Whitney as the library computes them', async () => {
    const fromAvro = watchAvro;
    const fromJsonl = await analyzeFile({ path: `${FIXTURES}experiment.jsonl`, metric: 'watch_time' });
    expect(JSON.parse(JSON.stringify(fromJsonl.report))).toEqual(
      Object.fromEntries(Object.entries(fromAvro).filter(([key]) => key !== 'input')),
    );
    const events = jsonlEvents();
    const values = (v: string) => events.filter((e) => e.variant === v).map((e) => e.watch_time);
    const welch = welchTTest(values('treatment'), values('control'));
    const mw = mannWhitneyU(values('treatment'), values('control'));
    expect(fromAvro.tests.map((t: { pValue: number }) => t.pValue)).toEqual([welch.pValue, mw.pValue]);
    expect(fromAvro.variants[0].mean).toBe(summarize(values('control')).mean);
  });

  it('runs ANOVA and Holm-corrected pairwise tests on a three-variant CSV', async () => {
    const events = csvEvents();
    const values = (v: string) => events.filter((e) => e.variant === v).map((e) => e.watch_time);
    const out = watchCsv;
    const groups = ['A', 'B', 'C'].map(values);
    const f = anovaOneWay(groups);
    expect(out.tests[0]).toMatchObject({ name: 'one-way ANOVA', statistic: f.statistic, pValue: f.pValue });
    const pairs = pairwiseTests(
      { A: groups[0], B: groups[1], C: groups[2] },
      { test: 'welch', correction: 'holm' },
    );
    expect(out.tests.slice(1).map((t) => t.adjustedPValue)).toEqual(pairs.map((p) => p.adjustedPValue));
    expect(out.bayesian).toEqual([]);
  });

  it('flags a broken split before anything else, and names an unreadable input', async () => {
    const { report } = await analyzeFile({
      path: `${FIXTURES}experiment-3way.csv`,
      metric: 'conversion',
      expectedShares: [1, 1, 2],
    });
    expect(report.srm.mismatch).toBe(true);
    expect(report.verdict).toMatch(/^Sample ratio mismatch/);
    await expect(analyzeFile({ path: 'missing.jsonl', metric: 'ctr' })).rejects.toMatchObject({
      code: 'CROUPIER_ERR_ANALYZE_INPUT',
      message: expect.stringContaining('missing.jsonl'),
    });
  });
});

describe('analyze on a hostile Avro file', () => {
  const zigzag = (n: bigint) => {
    const out: number[] = [];
    for (let v = n < 0n ? (-n << 1n) - 1n : n << 1n; ; v >>= 7n) {
      if (v < 0x80n) return Buffer.from([...out, Number(v)]);
      out.push(Number((v & 0x7fn) | 0x80n));
    }
  };
  const text = (s: string) => Buffer.concat([zigzag(BigInt(Buffer.byteLength(s))), Buffer.from(s)]);

  /** Analyzes an Avro file of `schema` holding `rows` (their bytes as given) in one block; what it rejects with. */
  async function analyzeRaw(schema: unknown, rows: Buffer[]): Promise<unknown> {
    const sync = Buffer.alloc(16, 7);
    const header = Buffer.concat([
      Buffer.from('Obj\x01', 'latin1'),
      zigzag(2n),
      text('avro.schema'),
      text(JSON.stringify(schema)),
      text('avro.codec'),
      text('null'),
      zigzag(0n),
      sync,
    ]);
    const data = Buffer.concat(rows);
    const dir = mkdtempSync(join(tmpdir(), 'analyze-avro-'));
    try {
      const file = join(dir, 'hostile.avro');
      const block = [zigzag(BigInt(rows.length)), zigzag(BigInt(data.length)), data, sync];
      writeFileSync(file, Buffer.concat([header, ...block]));
      return await analyzeFile({ path: file, metric: 'ctr' }).then(
        () => null,
        (error: unknown) => error,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const row = (variant: string, ...rest: Buffer[]) => Buffer.concat([text(variant), zigzag(1n), ...rest]);
  /** A row of a variant and a click, and a `pad` field of the given type. */
  const withPad = (pad: unknown) => ({
    type: 'record',
    name: 'Row',
    fields: [
      { name: 'variant', type: 'string' },
      { name: 'clicked', type: 'int' },
      { name: 'pad', type: pad },
    ],
  });
  const REFUSED_PAD = { code: 'CROUPIER_ERR_ANALYZE_INPUT', message: expect.stringContaining('pad') };

  it('refuses a file whose schema has an array of items that take no bytes, before reading a record', async () => {
    // Items of null take no bytes, so the block count alone says how many there are: 10^7 here, 2^50 in a file
    // of the same size, which the reader would try to build for good.
    const rows = ['control', 'b'].map((v) => row(v, zigzag(10_000_000n), zigzag(0n)));
    expect(await analyzeRaw(withPad({ type: 'array', items: 'null' }), rows)).toMatchObject(REFUSED_PAD);
  });

  it('refuses a file whose schema expands into more fields than its records could hold, before reading one', async () => {
    // pad: a record of ten fields of the record before it, twelve deep, ending in ten ints: 10^13 ints to read
    // from a schema of a few KB; rows of a few bytes, read past their end as zeros, kept the reader busy for good.
    expect(await analyzeRaw(withPad(nestedRecords(12, 'int')), [row('control'), row('b')])).toMatchObject(
      REFUSED_PAD,
    );
  });
});

describe('analyze on the clickstream contracts', () => {
  it('joins Click records to their Impression by request and item, counting an impression clicked once', async () => {
    const impressions = new Map<string, string>();
    const clicked = new Set<string>();
    for await (const wrapped of avro.createFileDecoder(`${FIXTURES}clickstream.avro`)) {
      const [[type, event]] = Object.entries(wrapped as Record<string, Record<string, string>>);
      const key = `${event.requestId}/${event.itemId}`;
      if (type.endsWith('Impression')) impressions.set(key, event.variant);
      else clicked.add(key);
    }
    const tally = (variant: string) => {
      const keys = [...impressions].filter(([, v]) => v === variant).map(([k]) => k);
      return { n: keys.length, successes: keys.filter((k) => clicked.has(k)).length };
    };
    const { report, input } = await analyzeFile({ path: `${FIXTURES}clickstream.avro`, metric: 'ctr' });
    expect(input.skipped).toBe(0);
    expect(report.variants.map((v) => ({ n: v.n, successes: v.successes }))).toEqual([
      tally('control'),
      tally('treatment'),
    ]);
  });

  it('reads Carousel records as the impressions they replace, beside old Impression records', async () => {
    // The fixture's log with every request's impressions said once, as one Carousel (half of them; the other
    // half stays as Impression records), then the same analysis.
    const lines: string[] = [];
    const carousels = new Map<string, Record<string, unknown> & { items: Record<string, unknown>[] }>();
    let requests = 0;
    for await (const wrapped of avro.createFileDecoder(`${FIXTURES}clickstream.avro`)) {
      const [[type, event]] = Object.entries(wrapped as Record<string, Record<string, unknown>>);
      if (!type.endsWith('Impression')) {
        lines.push(JSON.stringify(event));
        continue;
      }
      const requestId = event.requestId as string;
      let carousel = carousels.get(requestId);
      if (carousel === undefined && requests++ % 2 === 0) {
        const { itemId: _i, slot: _s, score: _c, propensity: _p, ...rest } = event;
        carousel = { ...rest, items: [] };
        carousels.set(requestId, carousel);
        lines.push(`@${requestId}`);
      }
      if (carousel === undefined) lines.push(JSON.stringify(event));
      else carousel.items.push({ itemId: event.itemId, slot: event.slot, propensity: event.propensity });
    }
    const text = lines
      .map((line) => (line.startsWith('@') ? JSON.stringify(carousels.get(line.slice(1))) : line))
      .join('\n');
    expect(carousels.size).toBeGreaterThan(10);
    const dir = mkdtempSync(join(tmpdir(), 'croupier-analyze-'));
    const path = join(dir, 'carousels.jsonl');
    writeFileSync(path, text);
    try {
      const fromImpressions = await analyzeFile({ path: `${FIXTURES}clickstream.avro`, metric: 'ctr' });
      const fromCarousels = await analyzeFile({ path, metric: 'ctr' });
      expect(fromCarousels.input.skipped).toBe(0);
      expect(fromCarousels.report.variants).toEqual(fromImpressions.report.variants);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
