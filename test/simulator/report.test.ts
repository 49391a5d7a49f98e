import { describe, expect, it } from 'vitest';
import { ceilingOf, type LoadTestResult, verdicts } from '../../load-tests/loadtest.ts';
import type { StepResult } from '../../load-tests/open-loop.ts';
import { compareResults, resultSvg, resultTable } from '../../load-tests/report.ts';
import { runInProcess, runKArmed } from '../../simulator/bandit/runner.ts';
import { reportSvg, reportTable } from '../../simulator/report/render.ts';
import { loadScenario } from '../../simulator/world/scenario.ts';

function step(rate: number, p99: number, achieved = rate, timeouts = 0): StepResult {
  const latency = {
    p50: p99 / 4,
    p90: p99 / 2,
    p99,
    p999: p99 * 2,
    p9999: p99 * 3,
    max: p99 * 3,
    mean: p99 / 3,
  };
  const curve = [50, 90, 99, 99.9].map((percentile) => ({ percentile, ms: p99 * (percentile / 99) }));
  return {
    rate,
    durationMs: 1000,
    mode: 'open',
    connections: 4,
    sent: rate,
    received: rate - timeouts,
    errors: 0,
    timeouts,
    achievedRate: achieved,
    latency: { ...latency, curve },
    uncorrected: { ...latency, curve },
    sendLag: { p99: 0.1, max: 0.2 },
  };
}

function result(steps: StepResult[], calibration: StepResult[] | null): LoadTestResult {
  return {
    version: 1,
    target: 'ws://127.0.0.1:1/ws',
    startedAt: '2026-01-01T00:00:00.000Z',
    machine: { cpus: 2, cpuModel: 'test', node: 'v20' },
    options: {
      url: 'ws://127.0.0.1:1/ws',
      rates: steps.map((s) => s.rate),
      stepSeconds: 1,
      warmupSeconds: 0,
      connections: 4,
      timeoutMs: 1000,
      slots: 10,
      users: 10,
      mode: 'open',
      calibrate: calibration !== null,
    },
    steps,
    calibration: calibration ? { steps: calibration, ceiling: ceilingOf(calibration) } : null,
    verdicts: verdicts(steps, calibration),
  };
}

describe('load test reports', () => {
  it('says when the generator, not the gateway, limits a step', () => {
    const echo = [step(1000, 0.2), step(5000, 3), step(10000, 50, 7000, 100)];
    const gateway = [step(1000, 2), step(5000, 4), step(10000, 90)];
    const v = verdicts(gateway, echo);
    expect(v.map((x) => x.generatorBound)).toEqual([false, true, true]);
    expect(v[2].reason).toContain('7000/s');
    expect(ceilingOf(echo)).toBe(5000);
  });

  it('compares two runs step by step and renders a table and percentile curves', () => {
    const a = result([step(1000, 2), step(5000, 4)], null);
    const b = result([step(1000, 1), step(5000, 8)], null);
    const comparison = compareResults(a, b);
    expect(comparison).toContain('1000/s p99');
    expect(comparison).toContain('-50%');
    expect(comparison).toContain('100%');
    expect(resultTable(a, true)).toContain('| 5000 | 5000 |');
    expect(resultSvg(a)).toContain('<svg');
  });
});

describe('simulation reports', () => {
  it('prints CTR and regret per policy, and the Lai–Robbins bound beside K-armed regret', () => {
    const scenario = loadScenario('k-armed');
    if (scenario.kind !== 'k-armed') throw new Error('k-armed scenario expected');
    const report = runInProcess({ scenario, policies: ['thompson', 'random'], durationSeconds: 10 });
    report.kArmed = runKArmed({ arms: scenario.arms, policies: ['thompson'], pulls: 2000, seed: 1 });
    const table = reportTable(report);
    expect(table).toContain('thompson');
    expect(table).toContain('Lai–Robbins');
    expect(reportSvg(report)).toContain('Lai–Robbins');
  });
});
