import { groupBy, mergeMap, type Observable, type OperatorFunction } from 'rxjs';
import { concatMap } from 'rxjs/operators';

/**
 * Projects each value to an inner Observable, one at a time per key and concurrently across keys: the inner
 * Observable of a value starts once the previous one of the same key completed. Keeps per-partition order
 * while partitions proceed in parallel.
 *
 * @example
 * batches$.pipe(concatPerKey((b) => `${b.topic}:${b.partition}`, (b) => from(apply(b))))
 *
 * @param keyOf The key of a value (e.g. its topic partition).
 * @param project Maps a value to the Observable that processes it.
 */
export function concatPerKey<T, K, R>(
  keyOf: (value: T) => K,
  project: (value: T) => Observable<R>,
): OperatorFunction<T, R> {
  return (source) =>
    source.pipe(
      groupBy(keyOf),
      mergeMap((group$) => group$.pipe(concatMap(project))),
    );
}
