import {
  closeSync,
  existsSync,
  fdatasyncSync,
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
  private readonly fsync: boolean;

  constructor(path: string, fsync: boolean) {
    this.path = path;
    this.fsync = fsync;
    this.fd = openSync(path, 'a');
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

  append(value: unknown): void {
    writeSync(this.fd, `${JSON.stringify(value)}\n`);
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
  }

  close(): void {
    closeSync(this.fd);
  }
}
