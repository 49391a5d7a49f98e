/**
 * Reading a record whose schema id the registry no longer has. A writer keeps encoding with the id it registered;
 * when its subject is deleted with `?permanent=true`, the registry forgets the id (as Confluent's does), and a
 * reader that had not cached it cannot learn the writer's schema. Such records were acknowledged to clients, so
 * they are not dead-lettered when they can be read without doubt as one of the contracts of their topic:
 *
 * - every byte of the body decodes as the contract's own schema (the writers of croupier write the contracts'
 *   schemas as they are), and the value passes the topic's validation;
 * - on the clickstream, the record's key is the value's `userId` and its Kafka timestamp the value's
 *   `timestamp`, as the gateway writes them (several clickstream contracts share their first fields, so bytes
 *   alone could read as two of them);
 * - exactly one contract of the topic passes; none or several leave the record a dead letter as before.
 */
import type { DecodedEvent, EventCodec } from '../../src/kafka/index.ts';
import type { RawRecord } from '../records.ts';
import type { SchemaName } from '../schemas/index.ts';
import { schemasOfRole, type TopicRole, validateRecord } from '../validate/events.ts';

export type ContractDecoder = Pick<EventCodec, 'decodeAsContract'>;

export type UnregisteredReading =
  | { ok: true; schemaName: SchemaName; value: unknown }
  | { ok: false; reason: string };

/** The one contract of `role`'s topic that reads `raw` without doubt, or why there is none. */
export function readUnregistered(
  codec: ContractDecoder,
  role: TopicRole,
  raw: RawRecord,
): UnregisteredReading {
  const value = raw.value;
  if (value === null) return { ok: false, reason: 'the record has no value' };
  const fits: DecodedEvent[] = [];
  for (const schemaName of schemasOfRole(role)) {
    let decoded: DecodedEvent;
    try {
      decoded = codec.decodeAsContract(value, schemaName);
    } catch {
      continue;
    }
    if (validateRecord(role, schemaName, decoded.value) !== undefined) continue;
    if (
      role === 'clickstream' &&
      !writtenAsTheGatewayDoes(raw, decoded.value as unknown as Record<string, unknown>)
    )
      continue;
    fits.push(decoded);
  }
  if (fits.length === 1) return { ok: true, schemaName: fits[0].schemaName, value: fits[0].value };
  return {
    ok: false,
    reason:
      fits.length === 0
        ? `its bytes read as none of the ${role} topic's contracts`
        : `its bytes read as several of the ${role} topic's contracts (${fits.map((f) => f.schemaName).join(', ')})`,
  };
}

function writtenAsTheGatewayDoes(raw: RawRecord, value: Record<string, unknown>): boolean {
  if (raw.key === null || raw.key.toString('utf8') !== value.userId) return false;
  return raw.timestamp === undefined || raw.timestamp === value.timestamp;
}
