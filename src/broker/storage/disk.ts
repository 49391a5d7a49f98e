/** Data-directory persistence (segments + offset index, group offsets, transaction state). */
import type { Logger } from 'pino';
import { CroupierError } from '../../errors/index.ts';
import type { PartitionStore } from '../log/partition.ts';
import type { BrokerStorage } from './storage.ts';

export interface DiskStorageOptions {
  fsync: 'never' | 'always';
  logger: Logger;
}

export class DiskStorage implements BrokerStorage {
  constructor(dir: string, _options: DiskStorageOptions) {
    throw new CroupierError('CROUPIER_ERR_BROKER_DATA_DIR', `--data-dir is not available yet (${dir})`);
  }
  clusterId(): string {
    return '';
  }
  recover(): void {}
  createTopic(): void {}
  deleteTopic(): void {}
  openPartition(): PartitionStore {
    throw new Error('unavailable');
  }
  saveOffset(): void {}
  saveTxn(): void {}
  saveNextProducerId(): void {}
  close(): void {}
}
