/**
 * One segment of a partition's log: `<base offset>.log` (record batches back to back, as stored) and its
 * `<base offset>.index` (see index-entry.ts), both open for appending; the names are the base offset
 * zero-padded to 20 digits, so they sort as the offsets do.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';

export function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

export class Segment {
  readonly baseOffset: number;
  readonly logPath: string;
  readonly indexPath: string;
  logFd: number;
  indexFd: number;
  size: number;

  constructor(dir: string, baseOffset: number) {
    this.baseOffset = baseOffset;
    this.logPath = join(dir, `${segmentName(baseOffset)}.log`);
    this.indexPath = join(dir, `${segmentName(baseOffset)}.index`);
    this.logFd = openSync(this.logPath, 'a+');
    this.indexFd = openSync(this.indexPath, 'a+');
    this.size = fstatSync(this.logFd).size;
  }

  /** Opens the index file again, after a new one was renamed over it (the old descriptor holds the old file). */
  reopenIndex(): void {
    closeSync(this.indexFd);
    this.indexFd = openSync(this.indexPath, 'a+');
  }

  close(): void {
    closeSync(this.logFd);
    closeSync(this.indexFd);
  }
}
