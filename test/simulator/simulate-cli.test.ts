import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulationReport, totals } from '../../simulator/report/series.ts';

const run = promisify(execFile);

describe('croupier simulate --in-process reads the engine settings', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'croupier-sim-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Regret per policy of a short cold-start run with the given `--set` overrides. */
  async function regretWith(name: string, ...sets: string[]): Promise<Record<string, number>> {
    const out = join(dir, name);
    const args = ['bin/croupier.js', 'simulate', 'cold-start', '--in-process', '--duration', '300'];
    args.push('--policies', 'thompson,epsilon-greedy,ucb1', '--report', out, '--set', 'log.level=warn');
    for (const set of sets) args.push('--set', set);
    await run(process.execPath, args, { timeout: 100_000 });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as SimulationReport;
    return Object.fromEntries(report.series.map((s) => [s.label, totals(s).regret]));
  }

  it('--set model.priorStrength, model.epsilon and model.ucbC change the policies they belong to', async () => {
    const base = await regretWith('base');
    const strong = await regretWith('strong', 'model.priorStrength=400');
    const epsilon = await regretWith('epsilon', 'model.epsilon=0.9');
    const ucb = await regretWith('ucb', 'model.ucbC=0.01');
    // The prior strength enters every policy's posterior; Thompson sampling's slates change with it.
    expect(strong.thompson).not.toBe(base.thompson);
    // ε and c change their own policy and nothing else (the same seeds give the same other runs).
    expect(epsilon['epsilon-greedy']).toBeGreaterThan(base['epsilon-greedy']);
    expect(epsilon.thompson).toBe(base.thompson);
    expect(epsilon.ucb1).toBe(base.ucb1);
    expect(ucb.ucb1).toBeLessThan(base.ucb1);
    expect(ucb.thompson).toBe(base.thompson);
    expect(ucb['epsilon-greedy']).toBe(base['epsilon-greedy']);
  });

  it('--set model.thompsonTemperature and stream.positionBias.enabled reach the policies they belong to', async () => {
    const base = await regretWith('base-t');
    const plain = await regretWith('plain', 'model.thompsonTemperature=1');
    const halfway = await regretWith('halfway', 'model.temperingImpressions=1');
    const raw = await regretWith('raw', 'stream.positionBias.enabled=false');
    // Tempering changes Thompson sampling's draws and no other policy's ranking.
    expect(plain.thompson).not.toBe(base.thompson);
    expect(halfway.thompson).not.toBe(base.thompson);
    expect(plain.ucb1).toBe(base.ucb1);
    expect(plain['epsilon-greedy']).toBe(base['epsilon-greedy']);
    // Raw counts instead of the default examination-weighted ones change what every learning policy knows.
    expect(raw.thompson).not.toBe(base.thompson);
    expect(raw.ucb1).not.toBe(base.ucb1);
  });
});
