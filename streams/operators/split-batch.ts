import { Observable, type OperatorFunction } from 'rxjs';

/**
 * Splits each array into consecutive chunks of at most `max` items, emitted in order (an empty array emits
 * nothing). Bounds the micro-batch a single Redis script applies, however large a Kafka fetch was.
 *
 * @example
 * of([1, 2, 3, 4, 5]).pipe(splitBatch(2)) // [1, 2], [3, 4], [5]
 *
 * @param max Largest chunk (>= 1).
 */
export function splitBatch<T>(max: number): OperatorFunction<readonly T[], T[]> {
  const size = Math.max(1, Math.floor(max));
  return (source) =>
    new Observable<T[]>((subscriber) =>
      source.subscribe({
        next(batch) {
          for (let i = 0; i < batch.length && !subscriber.closed; i += size) {
            subscriber.next(batch.slice(i, i + size));
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}
