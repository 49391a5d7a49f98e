/**
 * Parquet files built on a thread of their own: the archive's consumer thread decodes nothing but the wire
 * header, packs each batch into one buffer (record-frames.ts) and moves on, while the builder thread transcodes
 * the Avro bodies, encodes pages and compresses. On two cores this overlaps fetching with building.
 *
 * `builder()` returns a FileBuilder like the in-thread one. If the thread dies, every file it held fails at its
 * `finish` (the archive then re-reads those records from Kafka, as after any failed file) and the next file
 * starts a new thread. The first thread starts with the builder, before any file.
 */
import { Worker } from 'node:worker_threads';
import { CroupierError } from '../../../errors/index.ts';
import type { Logger } from '../../../log/logger.ts';
import type { TopicTable } from '../columns.ts';
import type { FileBuilder, FileMetadata } from '../file-builder.ts';
import type { ArchiveRecord } from '../rows.ts';
import type { BuilderReply, BuilderRequest } from './builder-thread-protocol.ts';
import type { DirectCompression } from './parquet-file.ts';
import { packRecords } from './record-frames.ts';

const ENTRY = new URL('./builder-thread.js', import.meta.url);

export interface ParquetBuilderThread {
  builder(options: { table: TopicTable; compression: DirectCompression }): FileBuilder;
  close(): Promise<void>;
  /** Stops the thread at once, as a crash would (for fault tests); the next file starts a new one. */
  crash(): Promise<void>;
}

interface Running {
  worker: Worker;
  pending: Map<number, { resolve: (bytes: number) => void; reject: (error: Error) => void }>;
  dead: Error | null;
}

const fileError = (message: string, cause?: unknown) =>
  new CroupierError('CROUPIER_ERR_ARCHIVE_FILE', message, undefined, cause === undefined ? {} : { cause });

export function startParquetBuilderThread(logger: Logger): ParquetBuilderThread {
  let nextId = 1;
  let closed = false;

  function start(): Running {
    const worker = new Worker(ENTRY, { name: 'croupier-archive-parquet' });
    worker.unref();
    const r: Running = { worker, pending: new Map(), dead: null };
    const fail = (error: Error) => {
      if (r.dead) return;
      r.dead = error;
      if (running === r) running = null;
      for (const p of r.pending.values()) p.reject(error);
      r.pending.clear();
    };
    worker.on('message', (reply: BuilderReply) => {
      const p = r.pending.get(reply.id);
      if (!p) return;
      r.pending.delete(reply.id);
      if ('bytes' in reply) p.resolve(reply.bytes);
      else p.reject(fileError(reply.error));
    });
    worker.on('error', (error) => {
      logger.error({ err: error }, 'the Parquet builder thread failed');
      fail(fileError(`the Parquet builder thread failed: ${error.message}`, error));
    });
    worker.on('exit', (code) => {
      if (!closed) logger.error({ code }, 'the Parquet builder thread stopped');
      fail(fileError(`the Parquet builder thread stopped (exit code ${code})`));
    });
    return r;
  }
  // Started now, so its modules load while the consumer joins its group, not when the first file opens.
  let running: Running | null = start();

  return {
    builder({ table, compression }) {
      if (closed) throw new Error('the Parquet builder thread is closed');
      if (!running) running = start();
      const r = running;
      const id = nextId++;
      const send = (request: BuilderRequest, transfer?: ArrayBuffer[]) => {
        if (!r.dead) r.worker.postMessage(request, transfer);
      };
      send({ op: 'open', id, topic: table.topic, contracts: table.contracts, compression });
      let finished = false;
      return {
        input: 'avro',
        append(partition: number, records: readonly ArchiveRecord[]) {
          if (finished) throw new Error('append after finish');
          const packed = packRecords(records, table.recordTypes);
          send({ op: 'append', id, partition, records: packed }, [packed]);
        },
        appendFrames(partition: number, frames: Uint8Array) {
          if (finished) throw new Error('append after finish');
          // A view of a whole buffer moves to the thread as it is; part of one is copied out first.
          const whole =
            frames.byteOffset === 0 &&
            frames.byteLength === frames.buffer.byteLength &&
            frames.buffer instanceof ArrayBuffer;
          const packed = whole ? (frames.buffer as ArrayBuffer) : new Uint8Array(frames).buffer;
          send({ op: 'append', id, partition, records: packed }, [packed]);
        },
        finish(metadata: FileMetadata, localPath: string) {
          finished = true;
          if (r.dead) return Promise.reject(r.dead);
          return new Promise<number>((resolve, reject) => {
            r.pending.set(id, { resolve, reject });
            send({ op: 'finish', id, metadata, localPath });
          });
        },
        async discard() {
          finished = true;
          send({ op: 'discard', id });
        },
      };
    },
    async close() {
      closed = true;
      const r = running;
      running = null;
      if (r) await r.worker.terminate();
    },
    async crash() {
      await running?.worker.terminate();
    },
  };
}
