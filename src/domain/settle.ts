/**
 * How long a stop waits for work against a service that may be gone (a read in flight, an offset commit, a group
 * leave): with a dead broker or Redis each retries for many seconds, even a minute, and a process stopping must not
 * wait that long for an answer nobody will use.
 */
export const STOP_WAIT_MS = 1000;

/** Waits for `work` to settle (resolve or reject), at most `ms`; `work` runs on, its result dropped. */
export async function settleWithin(
  work: Promise<unknown> | null | undefined,
  ms = STOP_WAIT_MS,
): Promise<void> {
  if (work === null || work === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work.then(noop, noop), late]);
  } finally {
    clearTimeout(timer);
  }
}

function noop(): void {}
