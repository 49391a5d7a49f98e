import { map, type OperatorFunction } from 'rxjs';
import type { PartitionRecord } from '../fold/partition-batch.ts';
import type { DecodedRecord, PartitionChunk, RefusedRecord } from '../records.ts';
import type { ClickstreamEvent, ItemChange, UserChange } from '../schemas/index.ts';
import { validateRecord } from '../validate/events.ts';

/**
 * Turns decoded records into the records a fold takes, checking each against its topic's role: refused
 * records (by the decoder or here) become `dead` records, kept in place so the batch's offsets stay whole,
 * and are listed in `refused` for the dead-letter topic.
 *
 * @example
 * chunks$.pipe(decodeRecords(codec), validateRecords(), produceDeadLetters(sendDeadLetters))
 */
export function validateRecords<
  C extends PartitionChunk & { decoded: readonly DecodedRecord[] },
>(): OperatorFunction<C, C & { records: PartitionRecord[]; refused: RefusedRecord[] }> {
  return map((chunk) => {
    const records: PartitionRecord[] = [];
    const refused: RefusedRecord[] = [];
    for (const d of chunk.decoded) {
      const offset = d.raw.offset;
      if (d.kind === 'tombstone') {
        records.push({ offset, kind: 'tombstone' });
        continue;
      }
      const rejection =
        d.kind === 'refused'
          ? { code: d.code, message: d.message }
          : validateRecord(chunk.role, d.schemaName, d.value);
      if (rejection !== undefined) {
        records.push({ offset, kind: 'dead', code: rejection.code });
        refused.push({ raw: d.raw, code: rejection.code, message: rejection.message });
      } else if (d.kind === 'decoded') {
        if (chunk.role === 'items')
          records.push({ offset, kind: 'itemChange', change: d.value as ItemChange });
        else if (chunk.role === 'users')
          records.push({ offset, kind: 'userChange', change: d.value as UserChange });
        else
          records.push({
            offset,
            kind: 'event',
            event: { type: d.schemaName, event: d.value } as ClickstreamEvent,
            ...(d.raw.timestamp !== undefined ? { timestamp: d.raw.timestamp } : {}),
          });
      }
    }
    return { ...chunk, records, refused };
  });
}
