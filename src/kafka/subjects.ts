/**
 * Subject names of croupier's topics. The clickstream carries four record types on one topic, so its subjects
 * follow Confluent's TopicRecordNameStrategy, `<topic>-<record full name>`; every other topic carries one type
 * and follows TopicNameStrategy, `<topic>-value`.
 */
import {
  CLICKSTREAM_SCHEMAS,
  type ClickstreamSchemaName,
  type SchemaName,
} from '../../streams/schemas/index.ts';
import type { Config } from '../config/index.ts';

export type TopicNames = Config['kafka']['topics'];

const CLICKSTREAM = new Set<SchemaName>(CLICKSTREAM_SCHEMAS);

export function isClickstreamSchema(name: SchemaName): name is ClickstreamSchemaName {
  return CLICKSTREAM.has(name);
}

/** The subject a record of `schemaName` (full Avro name `fullName`) on `topic` registers under. */
export function subjectName(topic: string, schemaName: SchemaName, fullName: string): string {
  return isClickstreamSchema(schemaName) ? `${topic}-${fullName}` : `${topic}-value`;
}

/** Which record types each of croupier's topics carries. */
export function topicContracts(topics: TopicNames): { topic: string; schemaNames: readonly SchemaName[] }[] {
  return [
    { topic: topics.clickstream, schemaNames: CLICKSTREAM_SCHEMAS },
    { topic: topics.cdcItems, schemaNames: ['ItemChange'] },
    { topic: topics.cdcUsers, schemaNames: ['UserChange'] },
    { topic: topics.deadLetter, schemaNames: ['DeadLetter'] },
  ];
}
