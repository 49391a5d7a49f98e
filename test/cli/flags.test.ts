/**
 * Careless values of the offline commands' own flags, through the real CLI: each is refused at once with exit
 * code 2, the flag and what it takes, and no stack trace. Before, `--url not-a-url` and a `--record` file in a
 * directory that does not exist ended in a stack trace (the latter after the whole run), `--seed abc` ran with
 * seed NaN and said so in its report, and `--items 1e9` or `--clients 1e9` never finished.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'croupier-cli-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The command's exit code and stderr; killed after 30 s (a command that would not finish). */
async function croupier(...args: string[]): Promise<{ code: number | string; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, ['bin/croupier.js', ...args, '--set', 'log.level=warn'], {
      timeout: 30_000,
    });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code?: number; signal?: string; stderr: string };
    return { code: failed.signal ?? failed.code ?? -1, stderr: failed.stderr };
  }
}

const simulate = ['simulate', '--in-process', '--policies', 'random', '--duration', '5'];
const recording = join(dir, 'traffic.jsonl');
writeFileSync(recording, '{"kind":"meta"}\n');

const CASES: [string, string[], RegExp][] = [
  [
    'a URL that is not one',
    ['simulate', '--url', 'not-a-url', '--no-publish'],
    /--url expects .*'not-a-url'/,
  ],
  [
    'a seed that is not a number',
    [...simulate, '--seed', 'abc'],
    /--seed expects an integer in \[0, 4294967295\]/,
  ],
  ['a seed past 32 bits', [...simulate, '--seed', '1e308'], /--seed expects/],
  ['a billion items', [...simulate, '--items', '1e9'], /--items expects an integer in \[1, 100000\]/],
  ['half an item', [...simulate, '--items', '0.5'], /--items expects/],
  ['a duration of 1e308 s', [...simulate, '--duration', '1e308'], /--duration expects a number in \(0, /],
  [
    'a record file in a directory that does not exist',
    [...simulate, '--record', join(dir, 'missing', 'traffic.jsonl')],
    /--record .* cannot be written \(ENOENT\)/,
  ],
  [
    'a report directory under a file',
    [...simulate, '--report', join(recording, 'report')],
    /--report .* cannot be made \(ENOTDIR\)/,
  ],
  ['a replay over a billion clients', ['replay', recording, '--clients', '1e9'], /--clients expects/],
  ['a replay to a URL that is not one', ['replay', recording, '--url', 'not-a-url'], /--url expects/],
  [
    'a billion bootstrap resamples',
    ['shadow', '--input', recording, '--candidate', 'policy=greedy', '--replicates', '1e9'],
    /--replicates expects an integer in \[1, 100000\]/,
  ],
];

describe('offline command flags', () => {
  for (const [name, args, message] of CASES) {
    it(`refuses ${name} at once, naming the flag`, async () => {
      const { code, stderr } = await croupier(...args);
      expect(stderr).toMatch(message);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(code).toBe(2);
    });
  }
});
