/**
 * Waits for `work` to settle (resolve or reject), at most `ms`; true when it settled in time. For the stops that
 * wait on a service that may be gone: a read in flight against a dead broker or Redis retries for a minute, and a
 * process stopping must not wait that long for an answer nobody will use. `work` runs on; its result is dropped.
 */
export async function settleWithin(work: Promise<unknown> | null | undefined, ms: number): Promise<boolean> {
  if (work === null || work === undefined) return true;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
