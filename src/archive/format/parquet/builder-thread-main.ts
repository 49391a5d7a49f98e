/**
 * The body of the Parquet builder thread: keeps one direct Parquet builder per open file, appends the packed
 * batches it is sent, and answers each `finish` with the file's size or the error that stopped it. An error in
 * an append is kept and given as the answer to that file's `finish`, so the archive learns of it where it
 * would have learnt of it without the thread.
 */
import { parentPort } from 'node:worker_threads';
import { topicTableOf } from '../columns.ts';
import type { BuilderReply, BuilderRequest } from './builder-thread-protocol.ts';
import { createDirectParquetBuilder, type DirectParquetBuilder } from './direct-parquet-builder.ts';

interface OpenFile {
  builder: DirectParquetBuilder;
  failure: string | null;
}

const port = parentPort!;
const files = new Map<number, OpenFile>();
const reply = (message: BuilderReply) => port.postMessage(message);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

port.on('message', (request: BuilderRequest) => {
  switch (request.op) {
    case 'open': {
      const table = topicTableOf(request.topic, request.contracts);
      const builder = createDirectParquetBuilder({ table, compression: request.compression });
      files.set(request.id, { builder, failure: null });
      return;
    }
    case 'append': {
      const file = files.get(request.id);
      if (!file || file.failure !== null) return;
      try {
        file.builder.appendFrames(request.partition, Buffer.from(request.records));
      } catch (error) {
        file.failure = messageOf(error);
      }
      return;
    }
    case 'finish': {
      const file = files.get(request.id);
      files.delete(request.id);
      if (!file) return reply({ id: request.id, error: `no file ${request.id} is being built` });
      if (file.failure !== null) return reply({ id: request.id, error: file.failure });
      file.builder.finish(request.metadata, request.localPath).then(
        (bytes) => reply({ id: request.id, bytes }),
        (error: unknown) => reply({ id: request.id, error: messageOf(error) }),
      );
      return;
    }
    case 'discard':
      files.delete(request.id);
      return;
  }
});
