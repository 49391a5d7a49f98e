/**
 * Builds the training set: runs `training-set.sql` with DuckDB over archive files (out of core: DuckDB keeps to
 * `memoryLimit` and spills to `tempDir`) and packs the rows into typed arrays, one float32 feature row per
 * shown item in the feature spec's order, as the gateway scored it.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { DuckDBConnection, DuckDBListVector, DuckDBVector } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import { CroupierError } from '../errors/index.ts';

/** The query, one file that Spark SQL runs unchanged (README, "Retraining"). */
export const TRAINING_SET_SQL = readFileSync(new URL('./training-set.sql', import.meta.url), 'utf8');

export interface TrainingSetOptions {
  /** Local Parquet files of the clickstream archive. */
  files: readonly string[];
  /** Carousels shown in [fromMs, toMs); null: from the first / through the last carousel in the files. */
  fromMs: number | null;
  toMs: number | null;
  attributionWindowSeconds: number;
  /** The last share of the window that is the holdout. */
  holdoutFraction: number;
  /** Feature spec the rows must follow (hash) and its width. */
  featureSpecHash: string;
  width: number;
  /** DuckDB's memory limit, e.g. `1GB`, and where it spills ('' : the system temp directory). */
  memoryLimit: string;
  tempDir: string;
}

export interface TrainingSetCounts {
  /** Shown items in the window (after removing duplicate deliveries). */
  shown: number;
  /** Of them, without a logged feature row (not trainable). */
  withoutFeatures: number;
  /** Of them, scored under another feature spec, or with a row of another width. */
  otherSpec: number;
  /**
   * Of them, with a feature that is not a finite float32 (NaN, ±Infinity, beyond 3.4e38, a null entry): what a
   * producer other than the gateway may write. One such row made the logistic regression's system NaN, refused as
   * "singular: set train.l2 above 0", so no model could be trained on any window holding it.
   */
  badFeatures: number;
  /** Rows kept: shown − withoutFeatures − otherSpec − badFeatures. */
  rows: number;
  clicks: number;
  conversions: number;
  train: number;
  holdout: number;
  carousels: number;
}

/** The rows of a training set, in time order (then partition, offset, slot). */
export interface TrainingSet {
  width: number;
  rows: number;
  /** rows × width, row-major: the exact rows the model scored. */
  features: Float32Array;
  slots: Int32Array;
  labels: Uint8Array;
  holdout: Uint8Array;
  shownAtMs: Float64Array;
  /** The score the serving model gave (NaN when not logged). */
  loggedScores: Float64Array;
  requestIds: string[];
  itemIds: string[];
  /** The span of the window that holds carousels (ms, [first, last + 1)) and where its holdout starts. */
  window: { fromMs: number; toMs: number; holdoutStartMs: number };
  counts: TrainingSetCounts;
  /** Carousel offsets per Kafka partition among the rows kept. */
  carouselOffsets: { partition: number; start: number; end: number }[];
}

export const sqlString = (text: string) => `'${text.replace(/'/g, "''")}'`;

function queryError(error: unknown, what: string): CroupierError {
  return new CroupierError(
    'CROUPIER_ERR_TRAIN_QUERY',
    `${what}: ${(error as Error).message}`,
    {},
    { cause: error },
  );
}

async function run(connection: DuckDBConnection, sql: string, what: string): Promise<void> {
  try {
    await connection.run(sql);
  } catch (error) {
    throw queryError(error, what);
  }
}

export async function columnsOf(connection: DuckDBConnection): Promise<Set<string>> {
  const reader = await connection.runAndReadAll('DESCRIBE clickstream');
  return new Set(
    (reader.getRowObjectsJS() as { column_name: string }[]).map((r) => r.column_name.toLowerCase()),
  );
}

/**
 * A DuckDB connection over archive files: the view `clickstream` (every record type, hive partitions, columns
 * united by name) and Spark's `explode` and `unix_millis` as macros, under `memoryLimit`, spilling to `tempDir`.
 * The caller closes both.
 */
export async function openClickstream(options: {
  files: readonly string[];
  memoryLimit: string;
  tempDir: string;
}): Promise<{ db: DuckDBInstance; connection: DuckDBConnection }> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    await run(
      connection,
      `SET memory_limit = ${sqlString(options.memoryLimit)};
       SET temp_directory = ${sqlString(options.tempDir || os.tmpdir())};
       CREATE MACRO explode(l) AS unnest(l);
       CREATE MACRO unix_millis(t) AS epoch_ms(t);
       CREATE VIEW clickstream AS SELECT * FROM read_parquet([${options.files.map(sqlString).join(', ')}],
         hive_partitioning = true, union_by_name = true);`,
      'cannot open the archive files',
    );
  } catch (error) {
    connection.closeSync();
    db.closeSync();
    throw error;
  }
  return { db, connection };
}

/** The first and last carousel time (ms) in the files and in [fromMs, toMs), or null when there is none. */
async function carouselSpan(
  connection: DuckDBConnection,
  fromMs: number | null,
  toMs: number | null,
): Promise<{ first: number; last: number } | null> {
  const bounds = [
    fromMs === null ? '' : ` AND timestamp >= make_timestamptz(${fromMs}::BIGINT * 1000)`,
    toMs === null ? '' : ` AND timestamp < make_timestamptz(${toMs}::BIGINT * 1000)`,
  ].join('');
  const reader = await connection.runAndReadAll(
    `SELECT epoch_ms(min(timestamp))::DOUBLE AS first, epoch_ms(max(timestamp))::DOUBLE AS last
     FROM clickstream WHERE _schema = 'croupier.events.Carousel'${bounds}`,
  );
  const [row] = reader.getRowObjectsJS() as { first: number | null; last: number | null }[];
  return row.first === null || row.last === null ? null : { first: row.first, last: row.last };
}

function noData(message: string, details: Record<string, unknown> = {}): CroupierError {
  return new CroupierError('CROUPIER_ERR_TRAIN_NO_DATA', message, details);
}

/** Growable column buffers, filled chunk by chunk. */
class Columns {
  capacity = 0;
  rows = 0;
  features = new Float32Array(0);
  slots = new Int32Array(0);
  labels = new Uint8Array(0);
  holdout = new Uint8Array(0);
  shownAtMs = new Float64Array(0);
  loggedScores = new Float64Array(0);
  requestIds: string[] = [];
  itemIds: string[] = [];

  constructor(readonly width: number) {}

  reserve(extra: number): void {
    if (this.rows + extra <= this.capacity) return;
    const capacity = Math.max(1024, this.capacity * 2, this.rows + extra);
    const grow = <T extends Float32Array | Float64Array | Int32Array | Uint8Array>(
      old: T,
      make: (n: number) => T,
      per = 1,
    ): T => {
      const next = make(capacity * per);
      next.set(old.subarray(0, this.rows * per));
      return next;
    };
    this.features = grow(this.features, (n) => new Float32Array(n), this.width);
    this.slots = grow(this.slots, (n) => new Int32Array(n));
    this.labels = grow(this.labels, (n) => new Uint8Array(n));
    this.holdout = grow(this.holdout, (n) => new Uint8Array(n));
    this.shownAtMs = grow(this.shownAtMs, (n) => new Float64Array(n));
    this.loggedScores = grow(this.loggedScores, (n) => new Float64Array(n));
    this.capacity = capacity;
  }
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));

/** Runs the training-set query over `files` and reads its rows. */
export async function buildTrainingSet(options: TrainingSetOptions): Promise<TrainingSet> {
  if (options.files.length === 0) {
    throw noData(
      'the archive holds no clickstream files in the window: run croupier start (or croupier archive) first',
    );
  }
  const { db, connection } = await openClickstream(options);
  try {
    const columns = await columnsOf(connection);
    if (!columns.has('items')) {
      throw noData(
        'the archive holds no Carousel records (no column "items"): the gateway logs one per dealt carousel with the feature rows the model scored; train on an archive written since',
      );
    }
    if (options.fromMs !== null && options.toMs !== null && !(options.toMs > options.fromMs)) {
      throw new CroupierError(
        'CROUPIER_ERR_TRAIN_OPTION',
        `the window [${new Date(options.fromMs).toISOString()}, ${new Date(options.toMs).toISOString()}) is empty: --to must come after --from`,
        { fromMs: options.fromMs, toMs: options.toMs },
      );
    }
    // The window is the span that holds carousels, so the holdout is the last share of the data even when
    // --from reaches back before the archive begins.
    const span = await carouselSpan(connection, options.fromMs, options.toMs);
    if (span === null) throw noData('the archive files hold no Carousel record in the window');
    const fromMs = span.first;
    const toMs = span.last + 1;
    const holdoutStartMs = Math.floor(toMs - options.holdoutFraction * (toMs - fromMs));
    await run(
      connection,
      `CREATE TABLE train_params AS SELECT
         make_timestamptz(${fromMs}::BIGINT * 1000) AS window_start,
         make_timestamptz(${toMs}::BIGINT * 1000) AS window_end,
         make_timestamptz(${holdoutStartMs}::BIGINT * 1000) AS holdout_start,
         ${options.attributionWindowSeconds}::BIGINT AS attribution_window_seconds,
         ${sqlString(options.featureSpecHash)} AS feature_spec_hash`,
      'cannot set the training parameters',
    );
    return await readRows(connection, options, { fromMs, toMs, holdoutStartMs });
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

async function readRows(
  connection: DuckDBConnection,
  options: TrainingSetOptions,
  window: TrainingSet['window'],
): Promise<TrainingSet> {
  const width = options.width;
  const out = new Columns(width);
  const counts: TrainingSetCounts = {
    shown: 0,
    withoutFeatures: 0,
    otherSpec: 0,
    badFeatures: 0,
    rows: 0,
    clicks: 0,
    conversions: 0,
    train: 0,
    holdout: 0,
    carousels: 0,
  };
  const offsets = new Map<number, { partition: number; start: number; end: number }>();
  let lastRequest = '';
  let result: Awaited<ReturnType<DuckDBConnection['stream']>>;
  try {
    result = await connection.stream(TRAINING_SET_SQL);
  } catch (error) {
    throw queryError(error, 'the training-set query failed');
  }
  const names = result.columnNames();
  const at = (name: string) => {
    const index = names.indexOf(name);
    if (index < 0) throw queryError(new Error(`no column ${name}`), 'the training-set query changed shape');
    return index;
  };
  const col = {
    request: at('request_id'),
    item: at('item_id'),
    shownAt: at('shown_at_ms'),
    slot: at('slot'),
    score: at('logged_score'),
    partition: at('kafka_partition'),
    offset: at('kafka_offset'),
    features: at('features'),
    spec: at('spec_matches'),
    clicked: at('clicked'),
    conversions: at('conversions'),
    holdout: at('holdout'),
  };
  for (;;) {
    let chunk: Awaited<ReturnType<typeof result.fetchChunk>>;
    try {
      chunk = await result.fetchChunk();
    } catch (error) {
      throw queryError(error, 'the training-set query failed');
    }
    if (chunk === null || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    out.reserve(n);
    const v = (i: number): DuckDBVector => chunk!.getColumnVector(i);
    const requests = v(col.request);
    const items = v(col.item);
    const shownAt = v(col.shownAt);
    const slots = v(col.slot);
    const scores = v(col.score);
    const partitions = v(col.partition);
    const kafkaOffsets = v(col.offset);
    const features = v(col.features) as DuckDBListVector;
    const child = features.childVector;
    const spec = v(col.spec);
    const clicked = v(col.clicked);
    const conversions = v(col.conversions);
    const holdout = v(col.holdout);
    for (let r = 0; r < n; r++) {
      counts.shown++;
      const length = features.getEntryLength(r);
      if (length === 0 && features.getItem(r) === null) {
        counts.withoutFeatures++;
        continue;
      }
      if (num(spec.getItem(r)) !== 1 || length !== width) {
        counts.otherSpec++;
        continue;
      }
      const row = out.rows;
      const start = features.getEntryOffset(r);
      let finite = true;
      for (let c = 0; c < width; c++) {
        const at = row * width + c;
        out.features[at] = num(child.getItem(start + c) ?? Number.NaN);
        // Read back: a double beyond float32's range is stored as ±Infinity.
        if (!Number.isFinite(out.features[at])) finite = false;
      }
      if (!finite) {
        counts.badFeatures++;
        continue;
      }
      out.slots[row] = num(slots.getItem(r));
      const label = num(clicked.getItem(r));
      out.labels[row] = label;
      const isHoldout = num(holdout.getItem(r));
      out.holdout[row] = isHoldout;
      out.shownAtMs[row] = num(shownAt.getItem(r));
      const score = scores.getItem(r);
      out.loggedScores[row] = score === null ? Number.NaN : num(score);
      const requestId = requests.getItem(r) as string;
      out.requestIds.push(requestId);
      out.itemIds.push(items.getItem(r) as string);
      if (requestId !== lastRequest) {
        counts.carousels++;
        lastRequest = requestId;
      }
      counts.clicks += label;
      counts.conversions += num(conversions.getItem(r));
      if (isHoldout === 1) counts.holdout++;
      else counts.train++;
      const partition = num(partitions.getItem(r));
      const offset = num(kafkaOffsets.getItem(r));
      const range = offsets.get(partition);
      if (range === undefined) offsets.set(partition, { partition, start: offset, end: offset });
      else {
        range.start = Math.min(range.start, offset);
        range.end = Math.max(range.end, offset);
      }
      out.rows++;
    }
  }
  counts.rows = out.rows;
  if (counts.rows === 0) {
    throw noData(
      `no trainable row in the window: ${counts.shown} shown items, ${counts.withoutFeatures} without a feature row, ${counts.otherSpec} scored under another feature spec (this one is ${options.featureSpecHash}), ${counts.badFeatures} with a feature that is not a finite number`,
      { ...counts },
    );
  }
  const rows = out.rows;
  return {
    width,
    rows,
    features: out.features.slice(0, rows * width),
    slots: out.slots.slice(0, rows),
    labels: out.labels.slice(0, rows),
    holdout: out.holdout.slice(0, rows),
    shownAtMs: out.shownAtMs.slice(0, rows),
    loggedScores: out.loggedScores.slice(0, rows),
    requestIds: out.requestIds,
    itemIds: out.itemIds,
    window,
    counts,
    carouselOffsets: [...offsets.values()].sort((a, b) => a.partition - b.partition),
  };
}
