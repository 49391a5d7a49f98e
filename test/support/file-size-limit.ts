/**
 * A full disk for one child process: `code` (an ES module, run by tsx from the repository root) runs under a
 * file-size limit (RLIMIT_FSIZE, `ulimit -f`). A write past the limit takes what fits and says how much, and the
 * next one fails with EFBIG (Node ignores SIGXFSZ), as a write meeting a full disk does with ENOSPC.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';

export function runUnderFileSizeLimit(limitBlocks: number, code: string): SpawnSyncReturns<string> {
  return spawnSync(
    'sh',
    [
      '-c',
      `ulimit -f ${limitBlocks} && exec "$0" "$@"`,
      process.execPath,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      code,
    ],
    { encoding: 'utf8' },
  );
}
