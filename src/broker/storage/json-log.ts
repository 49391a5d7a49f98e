import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';

/** Appends JSON lines; recovery reads until the first unparsable (torn) line. */
export class JsonLog {
  private readonly path: string;
  private fd: number;
  /** Bytes of whole lines in the file. */
  private size: number;
  private readonly fsync: boolean;

  constructor(path: string, fsync: boolean) {
    this.path = path;
    this.fsync = fsync;
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  static read(path: string): unknown[] {
    if (!existsSync(path)) return [];
    const out: unknown[] = [];
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        break;
      }
    }
    return out;
  }

  /**
   * Appends one line, whole or not at all: when the disk takes only part of it (ENOSPC, EFBIG), the file is cut
   * back and the error thrown, so no torn line is left for later lines to follow (recovery stops at one).
   */
  append(value: unknown): void {
    const line = Buffer.from(`${JSON.stringify(value)}\n`);
    try {
      let done = 0;
      while (done < line.length) done += writeSync(this.fd, line, done, line.length - done);
    } catch (error) {
      ftruncateSync(this.fd, this.size);
      throw error;
    }
    this.size += line.length;
    if (this.fsync) fdatasyncSync(this.fd);
  }

  /** Replaces the file with `values` (atomic rename). */
  rewrite(values: unknown[]): void {
    closeSync(this.fd);
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, values.map((v) => `${JSON.stringify(v)}\n`).join(''));
    const fd = openSync(tmp, 'r');
    fdatasyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  close(): void {
    closeSync(this.fd);
  }
}
