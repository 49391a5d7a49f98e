/** Persistence of the broker's state in a data directory (see disk-storage.ts); absent in memory mode. */

import type { BrokerState } from '../broker-state.ts';
import type { CommittedOffset } from '../group/coordinator.ts';
import type { Partition, PartitionStore } from '../log/partition.ts';
import type { Topic } from '../log/topics.ts';
import type { TxnSnapshot } from '../txn/coordinator.ts';

export interface BrokerStorage {
  clusterId(): string;
  /** Restores topics, committed offsets and transactions into the broker. */
  recover(broker: BrokerState): void;
  createTopic(topic: Topic): void;
  deleteTopic(name: string): void;
  openPartition(topic: Topic, partition: Partition): PartitionStore;
  saveOffset(groupId: string, topic: string, partition: number, value: CommittedOffset | null): void;
  saveTxn(snapshot: TxnSnapshot): void;
  saveNextProducerId(next: number): void;
  close(): void;
}
