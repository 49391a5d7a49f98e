import { concatMap, type OperatorFunction } from 'rxjs';
import { CroupierError } from '../../src/errors/index.ts';
import type { EventCodec } from '../../src/kafka/index.ts';
import type { DecodedRecord, PartitionChunk } from '../records.ts';
import type { SchemaName } from '../schemas/index.ts';
import { type ContractDecoder, readUnregistered } from './unregistered-schema.ts';

/** Decoding failures that are the record's fault: the record is dead-lettered, the partition moves on. */
const SERDE_CODES = new Set([
  'CROUPIER_ERR_SERDE_MAGIC',
  'CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA',
  'CROUPIER_ERR_SERDE_INCOMPATIBLE',
  'CROUPIER_ERR_SERDE_DECODE',
]);

/**
 * Decodes the records of each chunk (Confluent wire format, writer schema from the registry) in offset order.
 * A record that cannot be decoded becomes `refused` with the codec's code, and so does the stand-in of a record
 * batch the consumer could not decode (CROUPIER_ERR_STREAM_UNDECODABLE_BATCH); a null value is a `tombstone` on a
 * CDC topic and refused (CROUPIER_ERR_STREAM_EMPTY_RECORD) on the clickstream. Any other failure (the
 * registry did not answer) errors the Observable, so a retry upstream can decode the chunk again. A record whose
 * schema id the registry no longer has is read as the one contract of its topic that reads it without doubt
 * (unregistered-schema.ts), when the codec can decode as a contract, and reported to `onUnregistered`.
 *
 * @example
 * chunks$.pipe(decodeRecords(codec), validateRecords())
 *
 * @param codec The event codec.
 * @param onUnregistered Told of each record read by its contract because its schema id is gone.
 */
export function decodeRecords<C extends PartitionChunk>(
  codec: Pick<EventCodec, 'decode'> & Partial<Pick<EventCodec, 'decodeSync'> & ContractDecoder>,
  onUnregistered: (schemaId: number, schemaName: SchemaName) => void = () => undefined,
): OperatorFunction<C, C & { decoded: DecodedRecord[] }> {
  return concatMap(async (chunk) => {
    const decoded: DecodedRecord[] = [];
    for (const raw of chunk.raw) {
      if (raw.undecodableBatch !== undefined) {
        const { firstOffset, lastOffset, reason } = raw.undecodableBatch;
        decoded.push({
          raw,
          kind: 'refused',
          code: 'CROUPIER_ERR_STREAM_UNDECODABLE_BATCH',
          message: `the record batch of offsets ${firstOffset}-${lastOffset} could not be decoded (${reason}); its bytes are the dead letter's value`,
        });
        continue;
      }
      if (raw.value === null || raw.value.length === 0) {
        if (chunk.role === 'clickstream') {
          decoded.push({
            raw,
            kind: 'refused',
            code: 'CROUPIER_ERR_STREAM_EMPTY_RECORD',
            message: 'the record has no value',
          });
        } else {
          decoded.push({ raw, kind: 'tombstone' });
        }
        continue;
      }
      try {
        // The synchronous path once the schema id is cached: no promise per record.
        const event = codec.decodeSync?.(raw.value) ?? (await codec.decode(raw.value));
        decoded.push({ raw, kind: 'decoded', schemaName: event.schemaName, value: event.value });
      } catch (error) {
        if (!(error instanceof CroupierError) || !SERDE_CODES.has(error.code)) throw error;
        if (error.details?.missing === true && codec.decodeAsContract !== undefined) {
          const reading = readUnregistered(codec as ContractDecoder, chunk.role, raw);
          if (reading.ok) {
            onUnregistered(error.details.schemaId as number, reading.schemaName);
            decoded.push({ raw, kind: 'decoded', schemaName: reading.schemaName, value: reading.value });
            continue;
          }
          decoded.push({
            raw,
            kind: 'refused',
            code: error.code,
            message: `${error.message}; ${reading.reason}`,
          });
          continue;
        }
        decoded.push({ raw, kind: 'refused', code: error.code, message: error.message });
      }
    }
    return { ...chunk, decoded };
  });
}
