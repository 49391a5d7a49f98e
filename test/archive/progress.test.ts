/**
 * The archive's progress watch: a partition with records waiting that does not move is reported stalled after
 * `stallAfterMs` (fetching) or after the rotation interval on top of it (committing); a quiet one never is.
 */
import { describe, expect, it } from 'vitest';
import { ArchiveProgress } from '../../src/archive/progress.ts';

const K = 'clickstream:0';
const watch = () => new ArchiveProgress({ stallAfterMs: 1000, commitWithinMs: 5000 });

describe('archive progress', () => {
  it('reports a partition whose records wait in the log while nothing is taken (the registry down)', () => {
    const p = watch();
    p.positioned(K, 9, 0);
    p.logEnd(K, 10, 0);
    expect(p.snapshot(5000)).toEqual({ lag: { [K]: 0 }, stalled: {} });
    p.logEnd(K, 25, 6000); // 15 records arrive at 6 s and are not taken
    expect(p.snapshot(6900)).toEqual({ lag: { [K]: 15 }, stalled: {} });
    expect(p.snapshot(7000)).toEqual({ lag: { [K]: 15 }, stalled: { [K]: 1000 } });
    p.taken(K, 24, 7500);
    expect(p.snapshot(7600).stalled).toEqual({});
    expect(p.snapshot(7600).lag).toEqual({ [K]: 15 });
  });

  it('gives an open file its rotation interval before its commit is overdue, then reports it', () => {
    const p = watch();
    p.positioned(K, -1, 0);
    p.logEnd(K, 5, 0);
    p.taken(K, 4, 100);
    expect(p.snapshot(5000).stalled).toEqual({});
    expect(p.snapshot(6099).stalled).toEqual({});
    expect(p.snapshot(6100).stalled).toEqual({ [K]: 6000 });
    // Failed commits make the partition take the same records again: that is not progress.
    p.positioned(K, -1, 6200);
    p.taken(K, 4, 6300);
    expect(p.snapshot(6400).stalled).toEqual({ [K]: 6300 });
    p.committed(K, 4, 6500);
    expect(p.snapshot(20_000)).toEqual({ lag: { [K]: 0 }, stalled: {} });
  });

  it('never reports a quiet partition, nor one it no longer holds', () => {
    const p = watch();
    p.positioned(K, 99, 0);
    p.logEnd(K, 100, 0);
    expect(p.snapshot(3_600_000).stalled).toEqual({});
    p.logEnd('clickstream:1', 50, 0); // not positioned here: ignored
    p.logEnd(K, 120, 3_600_000);
    p.keepOnly(new Set());
    expect(p.snapshot(3_700_000)).toEqual({ lag: {}, stalled: {} });
  });
});
