/**
 * Change-feed apply cost in the gateway: the CPU the live reader spends applying one clickstream feed entry to its
 * tables, compact (`c`: one split, checked and applied in two passes) against the same entry as JSON (`d`: JSON.parse,
 * zod validation, merged copies), the form every clickstream entry had before.
 *
 * The entries are real: a redis-server and the writer's script apply folded batches of carousels and clicks (the
 * topology's work), then the bench reads the feed back and writes each entry's JSON twin. Both forms are applied to
 * warm tables (the steady state of a running gateway: the entries hold absolute values, so applying them again
 * changes nothing), alternating the two forms round after round in one process. Prints a table and writes
 * bench/results/feed.json.
 *
 *   npm run bench:feed [-- --carousels 20 --entries 400 --rounds 30]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer } from '../src/embedded/redis-server.ts';
import { FEED_SEPARATOR, partitionKey } from '../src/state/layout/index.ts';
import { createFeedEntryApplier } from '../src/state/live-reader/apply-feed-entry.ts';
import { StateTables } from '../src/state/live-reader/state-tables.ts';
import { createStateWriter } from '../src/state/writer/index.ts';
import { applyPartitionBatch } from '../streams/apply.ts';
import type { PartitionRecord } from '../streams/fold/partition-batch.ts';
import { decodeCompact } from '../test/state/support/compact-entry.ts';
import { generateClickstream } from '../test/streams/support/events.ts';

const { values: args } = parseArgs({
  options: {
    carousels: { type: 'string', default: '20' },
    entries: { type: 'string', default: '400' },
    rounds: { type: 'string', default: '30' },
  },
});
const CAROUSELS = Number(args.carousels);
const ENTRIES = Number(args.entries);
const ROUNDS = Number(args.rounds);
const HALF_LIFE = 3_600_000;

/** The JSON entry `d` that says what a compact entry says. */
const jsonTwin = (text: string) => JSON.stringify(decodeCompact(text));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const round2 = (v: number) => Math.round(v * 100) / 100;

async function main(): Promise<void> {
  const loadAtStart = Math.round(os.loadavg()[0] * 100) / 100;
  const server = await startRedisServer();
  const redis = new Redis({ host: server.host, port: server.port });
  const prefix = 'bench:';
  const tp = { topic: 'clickstream', partition: 0 };
  try {
    // The topology's work: batches of `CAROUSELS` carousels (10 slots) with their clicks, one feed entry each.
    const events = generateClickstream({
      seed: 1,
      users: 5000,
      items: 400,
      requests: CAROUSELS * ENTRIES,
      slots: 10,
      carouselShare: 1,
    });
    const perEntry = Math.ceil(events.length / ENTRIES);
    const writer = createStateWriter({
      redis,
      keyPrefix: prefix,
      groupId: 'bench',
      changeFeedMaxLen: ENTRIES * 2,
      recentClicks: 20,
      halfLifeMs: HALF_LIFE,
      requestTtlSeconds: 3600,
    });
    await writer.init();
    let applied = -1;
    for (let i = 0; i < events.length; i += perEntry) {
      const records: PartitionRecord[] = events
        .slice(i, i + perEntry)
        .map((event, k) => ({ offset: i + k, kind: 'event', event }));
      applied = (
        await applyPartitionBatch(writer, tp, 'clickstream', records, applied, {
          halfLifeMs: HALF_LIFE,
          recentClicks: 20,
        })
      ).applied;
    }
    const read = (await redis.xrange(partitionKey(prefix, tp, 'feed'), '-', '+')) as [string, string[]][];
    const compact = read.map(([, fields]) => fields);
    if (compact.some((fields) => fields[2] !== 'c'))
      throw new Error('the writer wrote an entry that is not compact');
    const json = compact.map((fields) => ['o', fields[1], 'd', jsonTwin(fields[3])]);
    const tokens = compact.reduce((n, fields) => n + fields[3].split(FEED_SEPARATOR).length, 0);
    const records = compact.reduce(
      (n, fields) =>
        n + fields[3].split(FEED_SEPARATOR).filter((t) => t === 'a' || t === 'i' || t === 'u').length,
      0,
    );
    const bytes = {
      compact: compact.reduce((n, f) => n + Buffer.byteLength(f[3]), 0) / compact.length,
      json: json.reduce((n, f) => n + Buffer.byteLength(f[3]), 0) / json.length,
    };

    const forms = { compact, json } as const;
    const perEntryUs: Record<keyof typeof forms, number[]> = { compact: [], json: [] };
    const sides = Object.keys(forms) as (keyof typeof forms)[];
    const counters = { entriesApplied: 0, malformed: 0 };
    const appliers = {
      compact: createFeedEntryApplier(new StateTables({ halfLifeSeconds: 3600 }), counters),
      json: createFeedEntryApplier(new StateTables({ halfLifeSeconds: 3600 }), counters),
    };
    for (let r = -2; r < ROUNDS; r++) {
      // Two warm-up rounds fill the tables and let the JIT settle; then the forms alternate, first one then the other.
      for (const form of r % 2 === 0 ? sides : [...sides].reverse()) {
        const applier = appliers[form];
        const entries = forms[form];
        const start = performance.now();
        for (const fields of entries) applier.apply('click', 0, fields);
        const us = ((performance.now() - start) * 1000) / entries.length;
        if (r >= 0) perEntryUs[form].push(us);
      }
    }
    if (counters.malformed > 0) throw new Error('an entry was refused');

    const result = {
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        loadAtStart,
        loadAtEnd: round2(os.loadavg()[0]),
      },
      settings: { carouselsPerEntry: CAROUSELS, slots: 10, entries: compact.length, rounds: ROUNDS },
      entry: { records: round2(records / compact.length), tokens: round2(tokens / compact.length), bytes },
      applyUsPerEntry: {
        compact: {
          median: round2(median(perEntryUs.compact)),
          min: round2(Math.min(...perEntryUs.compact)),
          max: round2(Math.max(...perEntryUs.compact)),
        },
        json: {
          median: round2(median(perEntryUs.json)),
          min: round2(Math.min(...perEntryUs.json)),
          max: round2(Math.max(...perEntryUs.json)),
        },
      },
      ratio: round2(median(perEntryUs.json) / median(perEntryUs.compact)),
    };
    const table = [
      ['form', 'µs/entry median', 'min', 'max', 'bytes/entry'],
      ...sides.map((form) => [
        form,
        result.applyUsPerEntry[form].median,
        result.applyUsPerEntry[form].min,
        result.applyUsPerEntry[form].max,
        Math.round(bytes[form]),
      ]),
    ];
    process.stdout.write(
      `change-feed apply, ${compact.length} entries of ${CAROUSELS} carousels (${result.entry.records} records, ` +
        `${result.entry.tokens} tokens each), ${ROUNDS} rounds, load ${loadAtStart} → ${result.machine.loadAtEnd}\n`,
    );
    for (const row of table) process.stdout.write(`${row.map((c) => String(c).padEnd(16)).join('')}\n`);
    process.stdout.write(`JSON / compact: ${result.ratio}×\n`);
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/feed.json', `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    redis.disconnect();
    await server.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
