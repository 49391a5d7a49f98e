/** Runs `kcat` (librdkafka) against a broker; parses its `-f` output binary-safely. */
import { spawn } from 'node:child_process';

export interface KcatResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function kcat(args: string[], input?: Buffer | string, timeoutMs = 20_000): Promise<KcatResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat ${args.join(' ')} timed out; stderr: ${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.end(input ?? '');
  });
}

export interface KcatRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: string;
}

/** The `-f` format `parseRecords` reads: a text line of fields, then the raw key and value bytes. */
export const RECORD_FORMAT = '%p %o %T %K %S %h\n%k%s';

export function parseRecords(out: Buffer): KcatRecord[] {
  const records: KcatRecord[] = [];
  let at = 0;
  while (at < out.length) {
    const nl = out.indexOf(0x0a, at);
    if (nl < 0) throw new Error(`unterminated kcat record line at ${at}`);
    const line = out.toString('utf8', at, nl);
    const [p, o, t, k, s, ...h] = line.split(' ');
    at = nl + 1;
    const keyLength = Number(k);
    const valueLength = Number(s);
    const key = keyLength < 0 ? null : out.subarray(at, at + keyLength);
    at += Math.max(0, keyLength);
    const value = valueLength < 0 ? null : out.subarray(at, at + valueLength);
    at += Math.max(0, valueLength);
    records.push({
      partition: Number(p),
      offset: Number(o),
      timestamp: Number(t),
      key,
      value,
      headers: h.join(' '),
    });
  }
  return records;
}
