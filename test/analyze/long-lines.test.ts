import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeFile } from '../../src/analyze/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'croupier-long-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function events(): string {
  let text = '';
  for (let i = 0; i < 40; i++)
    text += `{"variant":"a","clicked":${i % 2}}\n{"variant":"b","clicked":${i % 4 === 0 ? 1 : 0}}\r\n`;
  return text;
}

describe('analyze reads lines of any length in one pass', () => {
  it('reads a file with a 200 MiB line among its events', async () => {
    const path = join(dir, 'long.jsonl');
    const pad = 'x'.repeat(200 << 20);
    writeFileSync(path, `${events()}{"variant":"a","clicked":1,"pad":"${pad}"}\n${events()}`);
    const { report, input } = await analyzeFile({ path, metric: 'ctr' });
    expect(input).toEqual({ records: 161, skipped: 0 });
    const a = report.variants.find((v) => v.name === 'a');
    expect(a?.n).toBe(81);
  }, 60_000);

  it('splits lines whose end falls between two chunks', async () => {
    const path = join(dir, 'edges.jsonl');
    // The first line ends exactly where the 1 MiB chunk does, the \r of a \r\n ends the next chunk.
    const first = `{"variant":"a","clicked":1,"pad":"${'y'.repeat((1 << 20) - 36)}"}`;
    const second = `{"variant":"b","clicked":0,"pad":"${'z'.repeat((1 << 20) - 37)}"}\r`;
    writeFileSync(path, `${first}\n${second}\n${events()}`);
    const { input } = await analyzeFile({ path, metric: 'ctr' });
    expect(input).toEqual({ records: 82, skipped: 0 });
  });
});
