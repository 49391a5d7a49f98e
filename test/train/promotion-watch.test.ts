/**
 * The post-promotion watch: the sequential test's verdicts on counts (pure), its false rollbacks when both
 * models are alike however often it looks, and `croupier models watch` on an archive where the new model
 * loses clicks (rolled back, with its evidence in the history) or does not (left running).
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HistoryEvent, promotionToWatch } from '../../src/models/registry-writer.ts';
import { judgePromotion, type ModelCounts, type WatchSettings } from '../../src/models/watch.ts';
import { readManifest } from '../../src/scoring/model-registry.ts';
import { createRng } from '../../src/stats/rng.ts';
import { type FixtureRecord, writeClickstreamFile } from './support/clickstream-fixture.ts';

const exec = promisify(execFile);

const SETTINGS: WatchSettings = {
  durationSeconds: 3600,
  baselineSeconds: 3600,
  alpha: 0.05,
  tau: 0.02,
  minCarousels: 200,
};

const counts = (version: string, carousels: number, clicked: number): ModelCounts => ({
  version,
  from: '',
  to: '',
  carousels,
  clickedCarousels: clicked,
  items: carousels * 5,
  clicks: clicked,
});

const look = (newModel: ModelCounts, previous: ModelCounts, elapsedSeconds = 600) =>
  judgePromotion(
    {
      promotion: { at: '', from: previous.version, to: newModel.version },
      control: { kind: 'holdback', percent: 10 },
      newModel,
      previous,
      elapsedSeconds,
      at: '',
    },
    SETTINGS,
  );

describe('the watch after a promotion', () => {
  it('rolls back on a significant loss, keeps a significant gain, and goes on while it is unclear', () => {
    expect(look(counts('new', 2000, 400), counts('old', 2000, 600)).verdict).toBe('rollback');
    expect(look(counts('new', 2000, 600), counts('old', 2000, 400)).verdict).toBe('keep');
    expect(look(counts('new', 2000, 590), counts('old', 2000, 600)).verdict).toBe('continue');
    expect(look(counts('new', 2000, 590), counts('old', 2000, 600), 3600).verdict).toBe('keep');
  });

  it('waits for enough carousels on both sides before it judges', () => {
    const early = look(counts('new', 150, 0), counts('old', 5000, 2000));
    expect(early.verdict).toBe('continue');
    expect(early.test).toBeNull();
    expect(early.reason).toMatch(/waiting for 200 settled carousels/);
  });

  it('rolls back a model as good as the previous one in at most α of promotions, looking every minute', () => {
    const rng = createRng(42);
    const promotions = 400;
    let rolledBack = 0;
    for (let run = 0; run < promotions; run++) {
      let previousClicked = 0;
      for (let i = 0; i < 3000; i++) previousClicked += rng.next() < 0.3 ? 1 : 0;
      const previous = counts('old', 3000, previousClicked);
      let n = 0;
      let clicked = 0;
      for (let minute = 1; minute <= 60; minute++) {
        for (let i = 0; i < 50; i++, n++) clicked += rng.next() < 0.3 ? 1 : 0;
        const verdict = look(counts('new', n, clicked), previous, minute * 60).verdict;
        if (verdict === 'rollback') rolledBack++;
        if (verdict !== 'continue') break;
      }
    }
    expect(rolledBack / promotions).toBeLessThanOrEqual(SETTINGS.alpha);
  });

  it('watches only a promotion it has not concluded on', () => {
    const promote: HistoryEvent = { at: '1', action: 'promote', from: 'a', to: 'b', reason: '' };
    expect(promotionToWatch([promote], 'b')).toBe(promote);
    expect(promotionToWatch([promote, { ...promote, action: 'watch', at: '2' }], 'b')).toBeNull();
    expect(
      promotionToWatch([promote, { ...promote, action: 'rollback', from: 'b', to: 'a' }], 'a'),
    ).toBeNull();
    expect(promotionToWatch([], 'a')).toBeNull();
  });
});

/** Carousels of `version` every `stepMs` in [from, to), 5 items clicked each with probability `ctr`. */
function carousels(
  version: string,
  fromMs: number,
  toMs: number,
  stepMs: number,
  ctr: number,
  rng: ReturnType<typeof createRng>,
  tag: string,
): FixtureRecord[] {
  const out: FixtureRecord[] = [];
  for (let t = fromMs, c = 0; t < toMs; t += stepMs, c++) {
    const requestId = `${tag}-${c}`;
    const items = Array.from({ length: 5 }, (_, slot) => ({
      itemId: `item-${slot}-${c % 40}`,
      slot,
      score: 0.05,
      propensity: 0.5,
      features: null,
    }));
    out.push({
      type: 'Carousel',
      eventId: `e-${requestId}`,
      requestId,
      userId: `u-${c % 50}`,
      timestamp: t,
      modelVersion: version,
      featureSpecHash: 'sha256:x',
      items,
    });
    for (const item of items) {
      if (rng.next() < ctr) {
        out.push({
          type: 'Click',
          eventId: `k-${requestId}-${item.itemId}`,
          requestId,
          userId: `u-${c % 50}`,
          itemId: item.itemId,
          timestamp: t + 3_000,
        });
      }
    }
  }
  return out;
}

describe('croupier models watch', () => {
  let dir: string;
  const promotedAt = Date.now() - 40 * 60_000;

  async function registryWithPromotion(name: string, holdbackPercent = 0): Promise<string> {
    const registry = path.join(dir, name);
    await mkdir(registry);
    for (const file of ['default-1.onnx', 'feature-spec.json']) {
      await copyFile(path.join('models', file), path.join(registry, file));
    }
    await copyFile(path.join('models', 'default-1.onnx'), path.join(registry, 'cand-1.onnx'));
    const manifest = JSON.parse(await readFile(path.join('models', 'manifest.json'), 'utf8'));
    manifest.models.push({ ...manifest.models[0], version: 'cand-1', file: 'cand-1.onnx' });
    manifest.active = 'cand-1';
    const holdback = { version: 'default-1', percent: holdbackPercent, salt: 'holdback-test' };
    if (holdbackPercent > 0) manifest.holdback = holdback;
    await writeFile(path.join(registry, 'manifest.json'), JSON.stringify(manifest));
    const promotion = {
      at: new Date(promotedAt).toISOString(),
      action: 'promote',
      from: 'default-1',
      to: 'cand-1',
      reason: 'the gate passed',
      ...(holdbackPercent > 0 ? { holdback } : {}),
    };
    await writeFile(path.join(registry, 'history.json'), JSON.stringify({ events: [promotion] }));
    return registry;
  }

  /**
   * 30 minutes of default-1 before the promotion (click-through `beforeCtr`), then the new model until a minute
   * ago; with `holdbackCtr`, default-1 also deals a third as many carousels as the new model after the promotion.
   */
  async function archiveWith(
    name: string,
    newCtr: number,
    { beforeCtr = 0.08, holdbackCtr }: { beforeCtr?: number; holdbackCtr?: number } = {},
  ): Promise<string> {
    const root = path.join(dir, name);
    const rng = createRng(9);
    const end = Date.now() - 60_000;
    const records = [
      ...carousels('default-1', promotedAt - 30 * 60_000, promotedAt, 2_000, beforeCtr, rng, 'old'),
      ...carousels('cand-1', promotedAt, end, 2_000, newCtr, rng, 'new'),
      ...(holdbackCtr === undefined
        ? []
        : carousels('default-1', promotedAt + 1_000, end, 6_000, holdbackCtr, rng, 'held')),
    ].sort((a, b) => a.timestamp - b.timestamp);
    const duckdb = await DuckDBInstance.create(':memory:');
    try {
      // One file per hour, as the archive writes them.
      let start = 0;
      while (start < records.length) {
        const hour = Math.floor(records[start].timestamp / 3_600_000);
        let end = start;
        while (end < records.length && Math.floor(records[end].timestamp / 3_600_000) === hour) end++;
        await writeClickstreamFile(duckdb, root, 0, start, records.slice(start, end));
        start = end;
      }
    } finally {
      duckdb.closeSync();
    }
    return root;
  }

  const watch = (registry: string, archive: string, ...args: string[]) =>
    exec(
      'node',
      [
        'bin/croupier.js',
        'models',
        ...args,
        '--archive',
        archive,
        '--set',
        `model.registryDir=${registry}`,
        '--set',
        'log.level=warn',
      ],
      { maxBuffer: 1 << 24 },
    );

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'croupier-watch-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rolls back a promotion that lost clicks, and the history keeps the evidence', async () => {
    const registry = await registryWithPromotion('loses');
    const archive = await archiveWith('loses-archive', 0.03);
    const { stdout } = await watch(registry, archive, 'watch', '--json');
    const outcome = JSON.parse(stdout);
    expect(outcome.status).toBe('rollback');
    expect(outcome.look.test.ci[1]).toBeLessThan(0);
    expect(outcome.look.newModel.carousels).toBeGreaterThan(500);
    expect((await readManifest(registry)).active).toBe('default-1');
    const history = JSON.parse(await readFile(path.join(registry, 'history.json'), 'utf8')).events;
    expect(history.at(-1)).toMatchObject({ action: 'rollback', from: 'cand-1', to: 'default-1' });
    expect(history.at(-1).watch.verdict).toBe('rollback');
    const shown = await exec('node', [
      'bin/croupier.js',
      'models',
      'show',
      'cand-1',
      '--set',
      `model.registryDir=${registry}`,
      '--set',
      'log.level=warn',
      '--set',
      `archive.uri=${archive}`,
    ]);
    expect(shown.stdout).toMatch(/rollback cand-1 → default-1: rolled back by the watch: a significant loss/);
    const again = JSON.parse((await watch(registry, archive, 'watch', '--json')).stdout);
    expect(again.status).toBe('idle');
  }, 120_000);

  it('leaves a promotion running while the new model does as well as the previous one', async () => {
    const registry = await registryWithPromotion('holds');
    const archive = await archiveWith('holds-archive', 0.08);
    const outcome = JSON.parse((await watch(registry, archive, 'watch', '--json')).stdout);
    expect(outcome.status).toBe('continue');
    expect(outcome.look.test.ci[0]).toBeLessThan(0);
    expect(outcome.look.test.ci[1]).toBeGreaterThan(0);
    expect((await readManifest(registry)).active).toBe('cand-1');
  }, 120_000);

  it('judges against the holdback over the same time, not against the hours before the promotion', async () => {
    // Click-through rose over time (default-1 at 4 % per item before, 14 % on its holdback after): compared with
    // the hours before, the new model's 8 % looks like a gain; its concurrent control shows the loss.
    const trend = { beforeCtr: 0.04, holdbackCtr: 0.14 };
    const before = await registryWithPromotion('trend-before');
    const archive = await archiveWith('trend-archive', 0.08, trend);
    const naive = JSON.parse((await watch(before, archive, 'watch', '--json')).stdout);
    expect(naive.look.control).toEqual({ kind: 'before', seconds: 3600 });
    expect(naive.status).toBe('keep');
    expect(naive.look.test.ci[0]).toBeGreaterThan(0);

    const held = await registryWithPromotion('trend-holdback', 10);
    const outcome = JSON.parse((await watch(held, archive, 'watch', '--json')).stdout);
    expect(outcome.look.control).toEqual({ kind: 'holdback', percent: 10 });
    expect(outcome.status).toBe('rollback');
    expect(outcome.look.test.ci[1]).toBeLessThan(0);
    expect(outcome.look.previous.carousels).toBeGreaterThan(200);
    expect(Date.parse(outcome.look.previous.from)).toBe(promotedAt);
    const manifest = await readManifest(held);
    expect(manifest.active).toBe('default-1');
    expect(manifest.holdback).toBeUndefined();
  }, 120_000);
});
