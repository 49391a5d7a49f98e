import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeFile } from '../../src/analyze/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'croupier-proto-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 30 events of variant a (half clicked) and 30 of b (a third clicked). */
const rows = Array.from({ length: 60 }, (_, i) => ({
  variant: i < 30 ? 'a' : 'b',
  clicked: i < 30 ? i % 2 : i % 3 === 0 ? 1 : 0,
}));

describe('analyze takes fields named as every JavaScript object has', () => {
  it.each(['__proto__', 'constructor'])('reads the variant from a CSV column named %s', async (field) => {
    const path = join(dir, `${field}.csv`);
    writeFileSync(path, `${field},clicked\n${rows.map((r) => `${r.variant},${r.clicked}`).join('\n')}\n`);
    const { report, input } = await analyzeFile({ path, metric: 'ctr', variantField: field });
    expect(input).toEqual({ records: 60, skipped: 0 });
    expect(report.variants.map((v) => [v.name, v.n])).toEqual([
      ['a', 30],
      ['b', 30],
    ]);
  });

  it('reads the variant from a JSON field named __proto__', async () => {
    const path = join(dir, 'proto.jsonl');
    writeFileSync(path, rows.map((r) => `{"__proto__":"${r.variant}","clicked":${r.clicked}}`).join('\n'));
    const { report } = await analyzeFile({ path, metric: 'ctr', variantField: '__proto__' });
    expect(report.variants.map((v) => [v.name, v.n])).toEqual([
      ['a', 30],
      ['b', 30],
    ]);
  });
});
