import { describe, expect, it } from 'vitest';
import { analyzeContinuous, analyzeRates } from '../../src/analyze/index.ts';
import { scanFlatFields } from '../../src/analyze/json-scan.ts';
import { splitCsvLine } from '../../src/analyze/read-events.ts';
import { RateTallies } from '../../src/analyze/tally.ts';

describe('analysis of degenerate experiments', () => {
  it('reports an experiment without a single click instead of failing on a zero-variance test', () => {
    const report = analyzeRates(
      new Map([
        ['control', { successes: 0, trials: 500 }],
        ['treatment', { successes: 0, trials: 510 }],
      ]),
      { metric: 'ctr' },
    );
    // No z-test (its variance is 0); the always-valid test simply has no evidence yet.
    expect(report.tests.map((t) => [t.name, t.pValue])).toEqual([['mSPRT (always valid)', 1]]);
    expect(report.lifts).toEqual([]);
    expect(report.variants.map((v) => v.mean)).toEqual([0, 0]);
    expect(report.verdict).toMatch(/^Nothing to test against control on ctr yet .*best with probability/);
  });

  it('compares constant watch times without a test where none is defined', () => {
    const report = analyzeContinuous(
      new Map([
        ['control', Float64Array.of(5, 5, 5)],
        ['treatment', Float64Array.of(5, 5, 5, 5)],
      ]),
      { metric: 'watch_time', method: 'frequentist' },
    );
    expect(report.variants.map((v) => v.ci)).toEqual([
      [5, 5],
      [5, 5],
    ]);
    expect(report.verdict).not.toMatch(/beats/);
  });

  it('refuses an experiment with a single variant, naming the variant field to check', () => {
    expect(() =>
      analyzeRates(new Map([['control', { successes: 1, trials: 2 }]]), { metric: 'ctr' }),
    ).toThrow(/--variant-field/);
  });

  it('picks the control by name, and takes the one asked for', () => {
    const tallies = new Map([
      ['b', { successes: 30, trials: 300 }],
      ['a', { successes: 20, trials: 300 }],
    ]);
    expect(analyzeRates(tallies, { metric: 'ctr' }).control).toBe('a');
    expect(analyzeRates(tallies, { metric: 'ctr', control: 'b' }).variants[0].name).toBe('b');
  });
});

describe('event parsing', () => {
  it('reads 0/1, booleans and their strings as outcomes, anything else as unusable', () => {
    const t = new RateTallies();
    for (const v of [1, 0, true, false, '1', '0', 'true', 'false']) expect(t.add('a', v)).toBe(true);
    for (const v of [2, 'yes', null, undefined]) expect(t.add('a', v)).toBe(false);
    expect(t.byVariant.get('a')).toEqual({ successes: 4, trials: 8 });
  });

  it('splits quoted CSV fields', () => {
    expect(splitCsvLine('a,"b,c","say ""hi""",')).toEqual(['a', 'b,c', 'say "hi"', '']);
  });
});

describe('scanFlatFields', () => {
  const fields = ['variant', 'clicked'];
  it('reads the fields of a flat line exactly as JSON.parse does', () => {
    for (const line of [
      '{"variant":"B","clicked":1,"watch_time":3.5}',
      '{"clicked": true, "variant": "control", "x": -1.5e-3}',
      '{"variant":"A","clicked":0,"variant":"B"}',
      '{"variant":7,"clicked":"1"}',
    ]) {
      const parsed = JSON.parse(line);
      expect(scanFlatFields(line, fields)).toEqual({ variant: parsed.variant, clicked: parsed.clicked });
    }
  });

  it('leaves nested, escaped, incomplete or null-valued lines to JSON.parse', () => {
    for (const line of [
      '{"context":{"variant":"X"},"variant":"B","clicked":1}',
      '{"note":"say \\"clicked\\":1","variant":"B","clicked":0}',
      '{"variant":"B","tags":["a"],"clicked":1}',
      '{"variant":"B"}',
      '{"variant":"B","clicked":null}',
      '{"variant":"B","clicked":01x}',
    ]) {
      expect(scanFlatFields(line, fields)).toBeUndefined();
    }
  });
});
