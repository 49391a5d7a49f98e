/**
 * The embedded broker's heap as its log grows on disk: appends `--batches` one-record batches (about 190 bytes
 * each) to one partition with a data directory (64 MiB segments, the default 16 MiB batch cache), and prints the
 * heap after a forced GC and the batch entries held in memory six times along the way. Writes
 * bench/results/broker-index-memory.json.
 *
 *   node --expose-gc --import tsx bench/broker-index-memory.ts [--batches 1200000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Partition } from '../src/broker/log/partition.ts';
import { readBatchHeader } from '../src/broker/protocol/record-batch.ts';
import { DiskPartitionStore } from '../src/broker/storage/disk-partition-store.ts';
import { silentLogger } from '../src/log/logger.ts';
import { buildBatch } from '../test/broker/support/batches.ts';

const { values: args } = parseArgs({ options: { batches: { type: 'string', default: '1200000' } } });
const total = Number(args.batches);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --import tsx');

const dir = mkdtempSync(join(tmpdir(), 'broker-index-memory-'));
const partition = new Partition('t', 0);
const store = new DiskPartitionStore(dir, 64 * 1024 * 1024, false, silentLogger());
store.recover(partition);
partition.store = store;
const rows: { batches: number; heapUsedMb: number; entriesInMemory: number; logMb: number }[] = [];
const t0 = Date.now();
try {
  for (let i = 1; i <= total; i++) {
    const batch = buildBatch({
      records: [{ key: `u${i % 1000}`, value: 'x'.repeat(120) }],
      baseTimestamp: t0 + i,
    });
    partition.appendBatch(batch, readBatchHeader(batch), t0 + i);
    if (i % Math.floor(total / 6) === 0) {
      gc();
      gc();
      rows.push({
        batches: i,
        heapUsedMb: Math.round(process.memoryUsage().heapUsed / 104857.6) / 10,
        entriesInMemory: partition.entriesInMemory,
        logMb: Math.round(partition.sizeBytes / 104857.6) / 10,
      });
    }
  }
} finally {
  partition.close();
  rmSync(dir, { recursive: true, force: true });
}
console.table(rows);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(
  new URL('./results/broker-index-memory.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), batches: total, rows }, null, 2)}\n`,
);
