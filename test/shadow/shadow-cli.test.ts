/**
 * `croupier shadow` from the command line: a report written with its SVG, the live shadow policy followed look by
 * look, and clear refusals of bad specs and inputs.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecordingWriter } from '../../simulator/replay/recording.ts';
import { runProofSeed } from '../../simulator/shadow/proof-world.ts';
import { liveShadow } from '../../src/shadow/live.ts';

const run = promisify(execFile);
const croupier = (...args: string[]) =>
  run(process.execPath, ['bin/croupier.js', 'shadow', ...args, '--set', 'log.level=warn'], {
    timeout: 60_000,
  });

async function refusal(...args: string[]): Promise<string> {
  try {
    await croupier(...args);
  } catch (error) {
    return (error as { stderr: string }).stderr;
  }
  throw new Error('not refused');
}

const dir = mkdtempSync(join(tmpdir(), 'croupier-shadow-cli-'));
const file = join(dir, 'traffic.jsonl');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  const recorder = createRecordingWriter(file);
  runProofSeed(5, 400, recorder);
  await recorder.close();
});

describe('croupier shadow', () => {
  it('prints the verdicts and writes report.json, report.txt and report.svg', async () => {
    const out = join(dir, 'report');
    const { stdout } = await croupier(
      '--input',
      file,
      '--candidate',
      'policy=greedy',
      '--candidate',
      'policy=epsilon-greedy,epsilon=0.2,label=explorer',
      '--replicates',
      '100',
      '--report',
      out,
    );
    expect(stdout).toMatch(/policy=greedy: (better|worse|not distinguishable)/);
    expect(stdout).toMatch(/explorer: (better|worse|not distinguishable)/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.carousels.evaluated).toBe(400);
    expect(report.candidates.map((c: { label: string }) => c.label)).toEqual(['policy=greedy', 'explorer']);
    expect(readFileSync(join(out, 'report.svg'), 'utf8')).toContain('<svg');
    expect(existsSync(join(out, 'report.txt'))).toBe(true);
  });

  it('refuses bad specs, missing candidates and inputs without candidate sets, saying how to fix them', async () => {
    expect(await refusal('--input', file, '--candidate', 'policy=thompson,prior=3')).toMatch(
      /CROUPIER_ERR_SHADOW_SPEC: candidate 'policy=thompson,prior=3': unknown key 'prior'/,
    );
    expect(await refusal('--input', file)).toMatch(/name at least one --candidate/);
    expect(await refusal('--input', file, '--archive', dir, '--candidate', 'policy=greedy')).toMatch(
      /--input or --archive, not both/,
    );
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    expect(await refusal('--input', empty, '--candidate', 'policy=greedy')).toMatch(
      /CROUPIER_ERR_SHADOW_NO_DATA: the input holds no carousels/,
    );
    expect(await refusal('--input', file, '--live')).toMatch(/no carousel logged a live shadow policy/);
  });

  it('follows a live shadow policy with always-valid intervals that only narrow', () => {
    const carousels = runProofSeed(6, 1500).carousels.map((c) => ({
      ...c,
      shadowPolicy: 'greedy' as const,
      // A made-up shadow policy logged with every impression: its probability of each shown (item, slot).
      items: c.items.map((item, s) => ({ ...item, shadowPropensity: s === 0 ? 1 : 0.5 })),
    }));
    const live = liveShadow(carousels, { looks: 10 });
    expect(live.looks).toHaveLength(10);
    for (let i = 1; i < live.looks.length; i++) {
      expect(live.looks[i].test.ci[0]).toBeGreaterThanOrEqual(live.looks[i - 1].test.ci[0]);
      expect(live.looks[i].test.ci[1]).toBeLessThanOrEqual(live.looks[i - 1].test.ci[1]);
    }
    expect(['better', 'worse', 'not yet distinguishable']).toContain(live.verdict);
  });
});
