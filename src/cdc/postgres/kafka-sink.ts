/**
 * The CDC source's way into Kafka: change records are encoded (Avro through the registry) and buffered, sent
 * in order by an idempotent producer (one send in flight, acks from all in-sync replicas), and each commit LSN
 * is reported as acknowledged only once every record before it is in Kafka. That report is what moves the
 * replication slot, so a crash re-sends and never skips.
 */
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { ItemChange, UserChange } from '../../../streams/schemas/index.ts';
import type { EventCodec } from '../../kafka/index.ts';
import type { ChangeRecord } from './change-records.ts';

export interface KafkaSinkOptions {
  kafka: Kafka;
  codec: Pick<EventCodec, 'encode'>;
  topics: { cdcItems: string; cdcUsers: string };
  /** Records per send at most (and MAX_SEND_BYTES); `add` waits while a send's worth is buffered. */
  maxBatch: number;
  /** How long a record may wait for others to join its send (ms). */
  lingerMs: number;
  /** Called, in order, with each commit LSN whose records are all acknowledged. */
  onAcknowledged(lsn: number): void;
  /** A send that failed for good: the source stops. */
  onError(error: Error): void;
}

export interface KafkaSink {
  add(record: ChangeRecord): Promise<void>;
  /** Marks the end of a transaction: `lsn` is reported once everything added before is in Kafka. */
  commit(lsn: number): void;
  /** Sends what is buffered and waits for it. */
  flush(): Promise<void>;
  /** Nothing buffered, nothing in flight. */
  idle(): boolean;
  /** Records acknowledged by Kafka so far, by op (a truncate counts once, whatever its partitions). */
  readonly sent: Record<'r' | 'c' | 'u' | 'd' | 't', number>;
  close(): Promise<void>;
}

/**
 * Bytes of keys and values per send at most (a record larger is sent alone). Kafka refuses a partition's batch
 * larger than the topic's `max.message.bytes` (1 MiB by default) as MESSAGE_TOO_LARGE, for good: counted in
 * records alone, 2,000 rows of 1 KB in one transaction (or in the snapshot) made a batch the broker refused, and
 * the source stopped on it at every start.
 */
export const MAX_SEND_BYTES = 512 * 1024;

type Op = ChangeRecord['change']['op'];
/** A record to send; `partition` set for a truncate's copies (counted as sent on the first, partition 0). */
type Entry = { topic: string; key: string; value: Buffer; op: Op; partition?: number } | { commit: number };

export async function createKafkaSink(options: KafkaSinkOptions): Promise<KafkaSink> {
  const { kafka, codec, topics } = options;
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  let buffer: Entry[] = [];
  let records = 0;
  let bytes = 0;
  let inFlight: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let failed: Error | null = null;
  const sent = { r: 0, c: 0, u: 0, d: 0, t: 0 };
  let spaceWaiters: (() => void)[] = [];

  async function send(entries: Entry[]): Promise<void> {
    const byTopic = new Map<string, { key: string; value: Buffer; partition?: number }[]>();
    for (const e of entries) {
      if ('commit' in e) continue;
      let list = byTopic.get(e.topic);
      if (list === undefined) {
        list = [];
        byTopic.set(e.topic, list);
      }
      list.push(
        e.partition === undefined
          ? { key: e.key, value: e.value }
          : { key: e.key, value: e.value, partition: e.partition },
      );
    }
    if (byTopic.size > 0) {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    }
    let last = -1;
    for (const e of entries) {
      if ('commit' in e) last = e.commit;
      else if (!e.partition) sent[e.op]++;
    }
    if (last >= 0) options.onAcknowledged(last);
  }

  function kick(): void {
    if (inFlight !== null || failed !== null || buffer.length === 0) return;
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    const entries = buffer;
    buffer = [];
    records = 0;
    bytes = 0;
    inFlight = send(entries).then(
      () => {
        inFlight = null;
        const waiters = spaceWaiters;
        spaceWaiters = [];
        for (const w of waiters) w();
        if (full()) kick();
        else schedule();
      },
      (error: Error) => {
        inFlight = null;
        failed = error;
        const waiters = spaceWaiters;
        spaceWaiters = [];
        for (const w of waiters) w();
        options.onError(error);
      },
    );
  }

  /** A send's worth is buffered. */
  function full(): boolean {
    return records >= options.maxBatch || bytes >= MAX_SEND_BYTES;
  }

  function schedule(): void {
    if (timer !== null || buffer.length === 0) return;
    timer = setTimeout(() => {
      timer = null;
      kick();
    }, options.lingerMs);
  }

  return {
    sent,
    async add(record) {
      if (failed !== null) throw failed;
      const value =
        record.kind === 'items'
          ? await codec.encode(topics.cdcItems, 'ItemChange', record.change as ItemChange)
          : await codec.encode(topics.cdcUsers, 'UserChange', record.change as UserChange);
      const topic = record.kind === 'items' ? topics.cdcItems : topics.cdcUsers;
      const op = record.change.op;
      if (record.everyPartition) {
        const partitions = await partitionCount(kafka, topic);
        for (let partition = 0; partition < partitions; partition++)
          buffer.push({ topic, key: record.key, value, op, partition });
        records += partitions;
        bytes += partitions * (Buffer.byteLength(record.key) + value.length);
      } else {
        buffer.push({ topic, key: record.key, value, op });
        records++;
        bytes += Buffer.byteLength(record.key) + value.length;
      }
      if (full()) {
        kick();
        while (full() && failed === null) {
          await new Promise<void>((resolve) => spaceWaiters.push(resolve));
          kick();
        }
        if (failed !== null) throw failed;
      } else schedule();
    },
    commit(lsn) {
      buffer.push({ commit: lsn });
      schedule();
    },
    async flush() {
      while (buffer.length > 0 || inFlight !== null) {
        if (failed !== null) throw failed;
        kick();
        if (inFlight !== null) await inFlight;
      }
      if (failed !== null) throw failed;
    },
    idle: () => buffer.length === 0 && inFlight === null,
    async close() {
      if (timer !== null) clearTimeout(timer);
      await producer.disconnect();
    },
  };
}

/** The partitions `topic` has now (asked of the cluster each time: a truncate is rare, and partitions may be added). */
async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics[0]?.partitions.length ?? 0;
    if (partitions === 0) throw new Error(`topic ${topic} has no partitions`);
    return partitions;
  } finally {
    await admin.disconnect();
  }
}
