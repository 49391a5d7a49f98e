import { concatMap, type OperatorFunction } from 'rxjs';
import type { PartitionChunk, RefusedRecord } from '../records.ts';

/**
 * Hands each chunk's refused records to `send` (which writes them to the dead-letter topic) and emits the
 * chunk once they are written, so a batch's state is applied only after its dead letters are safe. Chunks
 * without refused records pass straight through. A failed send errors the Observable (retry upstream).
 *
 * @example
 * chunks$.pipe(validateRecords(), produceDeadLetters((tp, refused) => producer.send(...)))
 *
 * @param send Writes the dead letters of one chunk.
 */
export type ChunkWithRefused = PartitionChunk & { refused: readonly RefusedRecord[] };

export function produceDeadLetters<C extends ChunkWithRefused>(
  send: (chunk: ChunkWithRefused) => Promise<void>,
): OperatorFunction<C, C> {
  return concatMap(async (chunk) => {
    if (chunk.refused.length > 0) await send(chunk);
    return chunk;
  });
}
