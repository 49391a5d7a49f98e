/**
 * The Confluent wire format of a Kafka record value: magic byte 0, the schema id as a 4-byte big-endian
 * integer, then the Avro binary body.
 *
 *   offset 0      1                5
 *          +------+----------------+----------------------+
 *          | 0x00 | schema id (BE) | Avro body ...        |
 *          +------+----------------+----------------------+
 */
import { CroupierError } from '../errors/index.ts';

export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

/** The schema id of a wire-format record; throws CROUPIER_ERR_SERDE_MAGIC when there is no valid header. */
export function readSchemaId(buffer: Buffer): number {
  if (buffer.length < HEADER_BYTES) {
    throw new CroupierError(
      'CROUPIER_ERR_SERDE_MAGIC',
      `record of ${buffer.length} bytes is too short for the Confluent wire format (magic byte + 4-byte schema id)`,
      { length: buffer.length },
    );
  }
  if (buffer[0] !== MAGIC_BYTE) {
    throw new CroupierError(
      'CROUPIER_ERR_SERDE_MAGIC',
      `record starts with byte ${buffer[0]}, not the Confluent magic byte 0: it was not written by a schema-registry serializer`,
      { magic: buffer[0] },
    );
  }
  return buffer.readInt32BE(1);
}

/** Writes the 5-byte header at the start of `buffer`. */
export function writeHeader(buffer: Buffer, schemaId: number): void {
  buffer[0] = MAGIC_BYTE;
  buffer.writeInt32BE(schemaId, 1);
}
