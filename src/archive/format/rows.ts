/**
 * One Kafka record as a row of its topic's table: the decoded fields plus the Kafka columns (columns.ts).
 * Pure; the sink decodes, this module shapes.
 */

/** A record as fetched, with its value decoded (or why it could not be). */
export interface ArchiveRecord {
  offset: number;
  /** Kafka timestamp (ms). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  decoded: DecodedValue;
}

export type DecodedValue =
  | { kind: 'value'; recordType: string; schemaId: number; fields: Record<string, unknown> }
  /** Not decoded: the Avro body in the contract's own schema, `body[start..]` (for builders that read Avro). */
  | { kind: 'avro'; recordType: string; schemaId: number; body: Buffer; start: number }
  | { kind: 'tombstone' }
  | { kind: 'undecodable'; error: string };

/** JSON.stringify replacer writing bytes (Buffer) as base64, as the staged columns expect. */
function bytesAsBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return Buffer.isBuffer(raw) ? raw.toString('base64') : value;
}

const b64 = (b: Buffer | null) => (b === null ? 'null' : `"${b.toString('base64')}"`);

/**
 * The JSON line of a record (newline-terminated). `withBytes`: the record types hold bytes fields
 * (slower replacer); the clickstream has none.
 */
export function jsonLineOf(partition: number, record: ArchiveRecord, withBytes: boolean): string {
  const d = record.decoded;
  let head: string;
  let kafka: string;
  if (d.kind === 'avro') throw new Error('the JSON staging needs decoded fields');
  if (d.kind === 'value') {
    const json = withBytes ? JSON.stringify(d.fields, bytesAsBase64) : JSON.stringify(d.fields);
    head = json.length > 2 ? `${json.slice(0, -1)},` : '{';
    kafka = `"_schema":${JSON.stringify(d.recordType)},"_schema_id":${d.schemaId}`;
  } else {
    head = '{';
    kafka =
      d.kind === 'tombstone'
        ? '"_schema":null,"_schema_id":null'
        : `"_schema":null,"_schema_id":null,"_raw":${b64(record.value)},"_error":${JSON.stringify(d.error)}`;
  }
  return `${head}${kafka},"_partition":${partition},"_offset":${record.offset},"_timestamp":${record.timestamp},"_key":${b64(record.key)}}\n`;
}

/** The row of a record as the table's Avro row schema reads it (absent fields take their null default). */
export function avroRowOf(partition: number, record: ArchiveRecord): Record<string, unknown> {
  const d = record.decoded;
  const kafka = {
    _partition: partition,
    _offset: record.offset,
    _timestamp: record.timestamp,
    _key: record.key,
  };
  if (d.kind === 'avro') throw new Error('Avro rows need decoded fields');
  if (d.kind === 'value') return { ...d.fields, _schema: d.recordType, _schema_id: d.schemaId, ...kafka };
  if (d.kind === 'tombstone') return { _schema: null, _schema_id: null, ...kafka };
  return { _schema: null, _schema_id: null, ...kafka, _raw: record.value, _error: d.error };
}
