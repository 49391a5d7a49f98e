/**
 * Writing a buffer whole to a file descriptor. `fs.writeSync` writes what the file system takes and says how
 * much: on a full disk (ENOSPC) or past a file-size limit (EFBIG) the write that meets the end takes only its
 * first bytes and reports no error. Written again from there, the next write throws that error, so a file is
 * never left short without the archive knowing.
 */
import { writeSync } from 'node:fs';

export function writeWholeSync(fd: number, buffer: Buffer): void {
  let done = 0;
  while (done < buffer.length) done += writeSync(fd, buffer, done, buffer.length - done);
}
