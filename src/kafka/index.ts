/** Kafka adapters: the kafkajs client from config, and the Avro event codec over the schema registry. */
export {
  type CreateKafkaOptions,
  createKafka,
  type KafkaSettings,
  kafkaLogLevel,
  pinoLogCreator,
} from './client.ts';
export {
  type ContractBody,
  createEventCodec,
  type DecodedEvent,
  type EventCodec,
  type EventCodecOptions,
} from './codec.ts';
export { type UndecodableBatch, undecodableBatchOf } from './fetch-decoding.ts';
export type { RegisteredSubject } from './schema-id-cache.ts';
export { keepSchemasRegistered, type SchemaRecheck } from './schema-recheck.ts';
export { MAX_SEND_BYTES, messageBytes, sendGroups } from './send-groups.ts';
export { isClickstreamSchema, subjectName, type TopicNames, topicContracts } from './subjects.ts';
export { HEADER_BYTES, MAGIC_BYTE, readSchemaId, writeHeader } from './wire-format.ts';
