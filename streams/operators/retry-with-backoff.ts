import { type MonoTypeOperatorFunction, Observable, type Subscription, timer } from 'rxjs';

export interface BackoffOptions {
  /** First wait (ms); doubled after each failure. */
  initialMs: number;
  /** Longest wait (ms). */
  maxMs: number;
  /** Whether to retry after `error` (default: always). Errors not retried go to the subscriber. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log the failure or heartbeat. */
  onRetry?: (error: unknown, attempt: number, waitMs: number) => void;
  /**
   * Called once when retrying ends after at least one retry: the source emitted or completed, retrying stopped
   * (`shouldRetry` said no), or the subscriber unsubscribed. What counted the failures counts them no longer.
   */
  onRetriesEnd?: () => void;
}

/**
 * Resubscribes to the source after an error, waiting `initialMs`, then twice as long after each further
 * failure, at most `maxMs`; a success resets nothing (each subscription starts from `initialMs`). Used to keep
 * a partition's work paused while Redis or the schema registry is unavailable and resume it when they return.
 *
 * @example
 * defer(() => store.apply(batch)).pipe(retryWithBackoff({ initialMs: 100, maxMs: 5000 }))
 *
 * @param options Waits, which errors to retry, a hook called before each wait and one when the retries end.
 */
export function retryWithBackoff<T>(options: BackoffOptions): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let attempt = 0;
      let retrying = false;
      const retriesEnd = () => {
        if (!retrying) return;
        retrying = false;
        options.onRetriesEnd?.();
      };
      let inner: Subscription | undefined;
      let wait: Subscription | undefined;
      const subscribe = () => {
        inner = source.subscribe({
          next: (value) => {
            retriesEnd();
            subscriber.next(value);
          },
          complete: () => {
            retriesEnd();
            subscriber.complete();
          },
          error: (error: unknown) => {
            attempt++;
            if (options.shouldRetry && !options.shouldRetry(error, attempt)) {
              retriesEnd();
              subscriber.error(error);
              return;
            }
            retrying = true;
            const waitMs = Math.min(options.maxMs, options.initialMs * 2 ** (attempt - 1));
            options.onRetry?.(error, attempt, waitMs);
            wait = timer(waitMs).subscribe(subscribe);
          },
        });
      };
      subscribe();
      return () => {
        wait?.unsubscribe();
        inner?.unsubscribe();
        retriesEnd();
      };
    });
}
