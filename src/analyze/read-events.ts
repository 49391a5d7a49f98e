/**
 * Streams an experiment's events from a file and hands each record to a handler, one at a time, without
 * holding the file or its records in memory: JSON lines, CSV with a header row, or an Avro object container
 * file. Records the handler cannot use are counted, not fatal; an unreadable file is.
 */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import avro from 'avsc';
import { boundAvroBlocks } from '../../streams/schemas/avro-block-bounds.ts';
import { exactAvroLongs } from '../../streams/schemas/avro-exact-longs.ts';
import { costlyReadPath } from '../../streams/schemas/writer-read-cost.ts';
import { zeroByteArrayPath } from '../../streams/schemas/zero-byte-arrays.ts';
import { CroupierError } from '../errors/index.ts';
import { scanFlatFields } from './json-scan.ts';

export type InputFormat = 'jsonl' | 'csv' | 'avro';

/** Receives one record; returns false when it cannot use it (counted as skipped). */
export type RecordHandler = (record: Readonly<Record<string, unknown>>) => boolean;

export interface ReadSummary {
  /** Records read from the file. */
  records: number;
  /** Records without the variant or the metric field, or with a value the metric cannot use. */
  skipped: number;
}

export interface ReadOptions {
  path: string;
  format?: InputFormat;
  /**
   * JSON lines only: the fields the handler needs. A flat line holding all of them is scanned for just
   * those (see json-scan.ts) instead of being parsed whole; other lines are parsed as usual.
   */
  fields?: readonly string[];
}

export function formatOf(path: string): InputFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.avro') return 'avro';
  throw new CroupierError(
    'CROUPIER_ERR_ANALYZE_INPUT',
    `cannot tell the format of ${path} from its extension: name it .jsonl, .csv or .avro`,
    { path },
  );
}

function inputError(path: string, error: unknown): CroupierError {
  if (error instanceof CroupierError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CroupierError(
    'CROUPIER_ERR_ANALYZE_INPUT',
    `cannot read ${path}: ${message}`,
    { path },
    { cause: error },
  );
}

/**
 * Calls `onLine` for every line of a text file, streamed in 1 MiB chunks. The chunks of a line not yet ended are
 * kept apart and joined once its end comes: only the newest chunk is searched for a newline, so a line of
 * hundreds of MiB costs its length, not its length times its chunks.
 */
async function forEachLine(path: string, onLine: (line: string, lineNumber: number) => void): Promise<void> {
  const pending: string[] = [];
  let lineNumber = 0;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const piece = chunk as string;
    let end = piece.indexOf('\n');
    if (end === -1) {
      pending.push(piece);
      continue;
    }
    pending.push(piece.slice(0, end));
    let line = pending.join('');
    pending.length = 0;
    for (;;) {
      lineNumber++;
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line, lineNumber);
      const start = end + 1;
      end = piece.indexOf('\n', start);
      if (end === -1) {
        if (start < piece.length) pending.push(piece.slice(start));
        break;
      }
      line = piece.slice(start, end);
    }
  }
  const rest = pending.join('');
  if (rest.length > 0) onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest, lineNumber + 1);
}

async function readJsonLines(options: ReadOptions, handle: RecordHandler): Promise<ReadSummary> {
  const summary: ReadSummary = { records: 0, skipped: 0 };
  const fields = options.fields;
  await forEachLine(options.path, (line, lineNumber) => {
    if (line.trim() === '') return;
    let record: unknown = fields === undefined ? undefined : scanFlatFields(line, fields);
    try {
      record ??= JSON.parse(line);
    } catch (error) {
      throw new CroupierError(
        'CROUPIER_ERR_ANALYZE_INPUT',
        `${options.path}:${lineNumber} is not valid JSON: each line must hold one event object`,
        { path: options.path, line: lineNumber },
        { cause: error },
      );
    }
    summary.records++;
    const ok = typeof record === 'object' && record !== null && handle(record as Record<string, unknown>);
    if (!ok) summary.skipped++;
  });
  return summary;
}

/** Splits one CSV line (RFC 4180 quoting: "a,b" and "" inside quotes). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

async function readCsv(options: ReadOptions, handle: RecordHandler): Promise<ReadSummary> {
  const summary: ReadSummary = { records: 0, skipped: 0 };
  let header: string[] = [];
  await forEachLine(options.path, (line, lineNumber) => {
    if (lineNumber === 1) {
      header = splitCsvLine(line).map((h) => h.trim());
      return;
    }
    if (line.trim() === '') return;
    summary.records++;
    const fields = splitCsvLine(line);
    // No prototype: a column named __proto__ is a field like any other.
    const record: Record<string, string> = Object.create(null);
    for (let i = 0; i < header.length; i++)
      if (fields[i] !== undefined && fields[i] !== '') record[header[i]] = fields[i];
    if (!handle(record)) summary.skipped++;
  });
  return summary;
}

/**
 * A file whose schema is a union of records (the clickstream's Impression | Click | …) decodes each record
 * wrapped as `{ "croupier.events.Click": {…} }`: hand on the record inside.
 */
function unwrapUnion(record: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(record);
  if (keys.length !== 1) return record;
  const inner = record[keys[0]];
  return typeof inner === 'object' && inner !== null && !Array.isArray(inner)
    ? (inner as Record<string, unknown>)
    : record;
}

async function readAvro(options: ReadOptions, handle: RecordHandler): Promise<ReadSummary> {
  const summary: ReadSummary = { records: 0, skipped: 0 };
  boundAvroBlocks();
  exactAvroLongs();
  const header = avro.extractFileHeader(options.path);
  const own = header === null ? null : avro.Type.forSchema(header.meta['avro.schema']);
  const endless = own === null ? null : zeroByteArrayPath(own);
  if (endless !== null) {
    throw new CroupierError(
      'CROUPIER_ERR_ANALYZE_INPUT',
      `cannot read ${options.path}: its schema has an array whose items take no bytes (${endless}), so a record of a few bytes can say it holds 2^50 of them; write the file with items that take bytes`,
      { path: options.path, field: endless },
    );
  }
  // The event codec's bound on writer schemas: named types used again and again can make a schema of a few KB
  // read 10^13 fields of a record of a few bytes (read past its end as zeros).
  const costly = own === null ? null : costlyReadPath(own);
  if (costly !== null) {
    throw new CroupierError(
      'CROUPIER_ERR_ANALYZE_INPUT',
      `cannot read ${options.path}: its schema makes a record cost far more to read than its bytes hold (${costly}); write the file with a schema whose records hold what they say`,
      { path: options.path, field: costly },
    );
  }
  const decoder = avro.createFileDecoder(options.path);
  for await (const record of decoder) {
    summary.records++;
    if (!handle(unwrapUnion(record as Record<string, unknown>))) summary.skipped++;
  }
  return summary;
}

/** Reads every record of the file into the handler. */
export async function readRecords(options: ReadOptions, handle: RecordHandler): Promise<ReadSummary> {
  const format = options.format ?? formatOf(options.path);
  try {
    if (format === 'jsonl') return await readJsonLines(options, handle);
    if (format === 'csv') return await readCsv(options, handle);
    return await readAvro(options, handle);
  } catch (error) {
    throw inputError(options.path, error);
  }
}
