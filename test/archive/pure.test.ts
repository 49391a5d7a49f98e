import { describe, expect, it } from 'vitest';
import { planCompaction } from '../../src/archive/compaction-plan.ts';
import {
  type ArchiveFile,
  byOffset,
  fileNameOf,
  hourDirOf,
  hourOfDir,
  hourStartOf,
  parseFileName,
} from '../../src/archive/layout.ts';
import {
  endFromMarker,
  endOfFiles,
  filesOfLastEpoch,
  type Marker,
  parseMarker,
  resolvePartitionFiles,
  serializeMarker,
} from '../../src/archive/recovery.ts';
import { isIdle, rotationBefore } from '../../src/archive/rotation.ts';

const file = (
  start: number,
  end: number,
  dir = 't/date=2026-03-01/hour=10',
  bytes = 100,
  partition = 0,
  epoch = 0,
): ArchiveFile => {
  const name = { topic: 't', partition, start, end, format: 'parquet' as const, epoch };
  return { ...name, dir, path: `${dir}/${fileNameOf(name)}`, bytes };
};

describe('layout', () => {
  it('names files by zero-padded inclusive offsets so they sort by offset, and parses them back', () => {
    const name = fileNameOf({ topic: 'cdc.items', partition: 11, start: 7, end: 1234, format: 'parquet' });
    expect(name).toBe('cdc.items+11+0000000000000000007+0000000000000001234.parquet');
    expect(parseFileName(name)).toEqual({
      topic: 'cdc.items',
      partition: 11,
      start: 7,
      end: 1234,
      format: 'parquet',
      epoch: 0,
    });
    expect(parseFileName('cdc.items+11+7+1234.parquet')).toBeNull();
    expect(parseFileName(`${name}.abc.tmp`)).toBeNull();
  });
  it('names a later log epoch after the partition, so names sort by epoch before offset, and parses it back', () => {
    const parts = {
      topic: 'cdc.items',
      partition: 11,
      start: 7,
      end: 1234,
      format: 'avro' as const,
      epoch: 3,
    };
    const name = fileNameOf(parts);
    expect(name).toBe('cdc.items+11+e000003+0000000000000000007+0000000000000001234.avro');
    expect(parseFileName(name)).toEqual(parts);
    // Epoch 0 has one name, the one without an epoch.
    expect(parseFileName('t+0+e000000+0000000000000000000+0000000000000000009.parquet')).toBeNull();
    expect(() =>
      fileNameOf({ topic: 't', partition: 0, start: 0, end: 1, format: 'avro', epoch: 1e6 }),
    ).toThrow(/does not fit/);
    const names = [
      fileNameOf({ topic: 't', partition: 0, start: 0, end: 9, format: 'parquet', epoch: 2 }),
      fileNameOf({ topic: 't', partition: 0, start: 500, end: 509, format: 'parquet' }),
      fileNameOf({ topic: 't', partition: 0, start: 10, end: 19, format: 'parquet', epoch: 1 }),
      fileNameOf({ topic: 't', partition: 0, start: 0, end: 9, format: 'parquet', epoch: 1 }),
    ];
    const byName = [...names].sort();
    const byParts = names
      .map((n) => parseFileName(n)!)
      .sort(byOffset)
      .map(fileNameOf);
    expect(byName).toEqual(byParts);
    expect(byParts.map((n) => parseFileName(n)!.epoch)).toEqual([0, 1, 1, 2]);
  });
  it('puts a record in the UTC hour of its Kafka timestamp', () => {
    expect(hourDirOf('clickstream', Date.parse('2026-03-01T23:59:59.999Z'))).toBe(
      'clickstream/date=2026-03-01/hour=23',
    );
    expect(hourDirOf('clickstream', Date.parse('2026-03-02T00:00:00Z'))).toBe(
      'clickstream/date=2026-03-02/hour=00',
    );
  });
  it('puts a record whose timestamp no date directory can name in the first or the last hour one can', () => {
    // Kafka takes any int64 as a record's timestamp; 2^62 ms once stopped the archive's partition for good.
    const last = 'clickstream/date=9999-12-31/hour=23';
    const first = 'clickstream/date=0000-01-01/hour=00';
    expect(hourDirOf('clickstream', 1_700_000_000_000 + 2 ** 62)).toBe(last);
    expect(hourDirOf('clickstream', 8.64e15)).toBe(last);
    expect(hourDirOf('clickstream', Number.MAX_VALUE)).toBe(last);
    expect(hourDirOf('clickstream', -(2 ** 63))).toBe(first);
    expect(hourDirOf('clickstream', Number.NaN)).toBe(first);
    expect(hourDirOf('clickstream', -5)).toBe('clickstream/date=1969-12-31/hour=23');
    for (const t of [2 ** 62, -(2 ** 63), 8.64e15, -5]) {
      expect(hourOfDir(hourDirOf('clickstream', t))).toBe(hourStartOf(t));
    }
  });
});

describe('rotation', () => {
  const policy = { flushRecords: 3, rotateIntervalMs: 60_000, idleRotateMs: 1000 };
  const t = Date.parse('2026-03-01T10:10:00Z');
  const open = {
    records: 1,
    hourStart: Date.parse('2026-03-01T10:00:00Z'),
    firstTimestamp: t,
    lastAppendAt: 0,
  };
  it('closes a file at the record count, the hour and the record-time interval', () => {
    expect(rotationBefore(policy, open, t + 1000)).toBeNull();
    expect(rotationBefore(policy, { ...open, records: 3 }, t)).toBe('records');
    expect(rotationBefore(policy, open, Date.parse('2026-03-01T11:00:00Z'))).toBe('hour');
    expect(rotationBefore(policy, open, t + 60_000)).toBe('interval');
    expect(rotationBefore({ ...policy, rotateIntervalMs: 0 }, open, t + 600_000)).toBeNull();
  });
  it('closes the file of a partition quiet for idleRotateMs of wall time', () => {
    expect(isIdle(policy, { ...open, lastAppendAt: 5000 }, 5999)).toBe(false);
    expect(isIdle(policy, { ...open, lastAppendAt: 5000 }, 6000)).toBe(true);
  });
});

describe('recovery', () => {
  it('reads the end from the names, treating files inside a compacted range as leftovers', () => {
    const resolved = resolvePartitionFiles([file(10, 19), file(0, 9), file(0, 19), file(20, 29)]);
    expect(resolved.files.map((f) => [f.start, f.end])).toEqual([
      [0, 19],
      [20, 29],
    ]);
    expect(resolved.superseded.map((f) => f.start).sort()).toEqual([0, 10]);
    expect(resolved.overlaps).toEqual([]);
    expect(resolvePartitionFiles([file(0, 9), file(5, 14)]).overlaps).toHaveLength(1);
  });
  it('keeps the files of two log epochs apart: the same offsets are neither leftovers nor overlaps', () => {
    const resolved = resolvePartitionFiles([
      file(0, 9, undefined, 100, 0, 1),
      file(0, 19),
      file(5, 14, undefined, 100, 0, 2),
      file(10, 19, undefined, 100, 0, 1),
    ]);
    expect(resolved.files.map((f) => [f.epoch, f.start, f.end])).toEqual([
      [0, 0, 19],
      [1, 0, 9],
      [1, 10, 19],
      [2, 5, 14],
    ]);
    expect(resolved.superseded).toEqual([]);
    expect(resolved.overlaps).toEqual([]);
    expect(endOfFiles(filesOfLastEpoch(resolved.files))).toBe(14);
  });
  it('ends at the pending file when it is in place, else at the marker, and distrusts a marker the files deny', () => {
    const marker: Marker = {
      topic: 't',
      partition: 0,
      epoch: 0,
      endOffset: 9,
      file: file(0, 9).path,
      last: null,
      pending: { path: file(10, 19).path, start: 10, end: 19, last: null },
    };
    expect(endFromMarker(marker, [file(0, 9), file(10, 19)])).toBe(19);
    expect(endFromMarker(marker, [file(0, 9)])).toBe(9);
    expect(endFromMarker(marker, [file(0, 19)])).toBe(19);
    expect(endFromMarker(marker, [])).toBeNull();
    expect(endFromMarker(marker, [], true)).toBe(9);
    expect(parseMarker(serializeMarker(marker), 't', 0)).toEqual(marker);
    expect(parseMarker('{"version":1,"topic":"t"', 't', 0)).toBeNull();
    expect(parseMarker(serializeMarker(marker), 't', 1)).toBeNull();
  });
  it('reads a marker of log epoch 1 by its own files, and a marker written before epochs as epoch 0', () => {
    const last = { offset: 9, timestamp: 1_700_000_000_000, sha256: 'a'.repeat(64) };
    const marker: Marker = {
      topic: 't',
      partition: 0,
      epoch: 1,
      endOffset: 9,
      file: file(0, 9, undefined, 100, 0, 1).path,
      last,
      pending: {
        path: file(10, 19, undefined, 100, 0, 1).path,
        start: 10,
        end: 19,
        last: { ...last, offset: 19 },
      },
    };
    expect(parseMarker(serializeMarker(marker), 't', 0)).toEqual(marker);
    // Epoch 0's files of the same offsets do not bear out a marker of epoch 1.
    expect(endFromMarker(marker, [file(0, 9), file(10, 19)])).toBeNull();
    expect(endFromMarker(marker, [file(0, 9, undefined, 100, 0, 1), file(10, 19)])).toBe(9);
    const v1 = '{"version":1,"topic":"t","partition":0,"endOffset":9,"file":null,"pending":null}';
    expect(parseMarker(v1, 't', 0)).toEqual({
      topic: 't',
      partition: 0,
      epoch: 0,
      endOffset: 9,
      file: null,
      last: null,
      pending: null,
    });
    expect(parseMarker(v1.replace('"version":1', '"version":3'), 't', 0)).toBeNull();
    expect(parseMarker(v1.replace('"version":1', '"version":2,"epoch":-1'), 't', 0)).toBeNull();
  });
});

describe('compaction plan', () => {
  it('merges runs of consecutive files of one partition and hour, never across a file in another hour', () => {
    const other = 't/date=2026-03-01/hour=09';
    const files = [
      file(0, 9),
      file(10, 19),
      file(20, 29, other),
      file(30, 39),
      file(40, 49),
      file(50, 59, undefined, 1000),
    ];
    const groups = planCompaction(files, 500);
    expect(groups.map((g) => [g.merged.start, g.merged.end, g.files.length])).toEqual([
      [0, 19, 2],
      [30, 49, 2],
    ]);
    expect([...files].sort(byOffset)[0].start).toBe(0);
  });
  it('never merges files of two log epochs', () => {
    const groups = planCompaction(
      [file(0, 9), file(10, 19), file(20, 29, undefined, 100, 0, 1), file(30, 39, undefined, 100, 0, 1)],
      500,
    );
    expect(groups.map((g) => [g.merged.epoch, g.merged.start, g.merged.end, g.files.length])).toEqual([
      [0, 0, 19, 2],
      [1, 20, 39, 2],
    ]);
    expect(fileNameOf(groups[1].merged)).toMatch(/^t\+0\+e000001\+0+20\+0+39\.parquet$/);
  });
});
