/** docs/grafana/croupier.json charts only metrics that /metrics renders, under their names and labels. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from '../../src/gateway/metrics.ts';
import { renderMetricsText } from '../../src/gateway/metrics-text.ts';
import { stateHealthMetricsText } from '../../src/gateway/state-health.ts';
import { StreamMetrics } from '../../streams/metrics.ts';

const dashboard = JSON.parse(
  readFileSync(new URL('../../docs/grafana/croupier.json', import.meta.url), 'utf8'),
) as {
  panels: { type: string; targets?: { expr: string }[] }[];
};

/** Every metric family /metrics renders with everything known (model, cache, topology), and its labels. */
function renderedFamilies(): Map<string, Set<string>> {
  const metrics = new GatewayMetrics();
  metrics.modelVersion = 'default-1';
  metrics.recordDecision(200);
  const freshness = {
    lastSyncAgeMs: 5,
    lastApplyDelayMs: 3,
    entriesApplied: 1,
    malformedEntries: 0,
    resnapshots: 0,
    partitions: 2,
    heldPartitions: 0,
    rebuildingPartitions: 0,
    evictedUsers: 0,
    evictedItems: 0,
  };
  const stream = new StreamMetrics(() => 0);
  const snapshot = { ...stream.snapshot(), lagByPartition: { 'clickstream:0': 4 }, deadLetters: { X: 1 } };
  const text =
    renderMetricsText({
      metrics,
      events: { sent: 0, shed: 0, invalid: 0, queued: 0, sendFailures: 0, connected: true },
      connections: 1,
      subscriptions: 0,
      freshness,
    }) + stateHealthMetricsText(freshness, { running: true, metrics: snapshot, ageMs: 10, restarts: 0 });
  const families = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{([^}]*)\})? /.exec(line);
    if (match === null) continue;
    const labels = families.get(match[1]) ?? new Set<string>();
    for (const pair of (match[2] ?? '').split(',').filter(Boolean)) labels.add(pair.split('=')[0]);
    families.set(match[1], labels);
  }
  return families;
}

describe('the Grafana dashboard', () => {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('has panels with queries for serving and the stream', () => {
    expect(exprs.length).toBeGreaterThan(15);
    expect(exprs.some((e) => e.includes('histogram_quantile(0.999'))).toBe(true);
  });

  it('names only metrics and labels that /metrics renders', () => {
    const families = renderedFamilies();
    const missing: string[] = [];
    for (const expr of exprs) {
      for (const [, name] of expr.matchAll(/\b(croupier_[a-z_]+)/g)) {
        if (!families.has(name)) missing.push(name);
      }
      for (const [, label, family] of expr.matchAll(
        /by \(([a-z_]+)\) \((?:increase\(|rate\()?(croupier_[a-z_]+)/g,
      )) {
        if (label !== 'le' && !families.get(family)?.has(label)) missing.push(`${family} by ${label}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
