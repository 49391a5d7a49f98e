/**
 * A bare Kafka-protocol client for tests: sends request frames built with the broker's Encoder and
 * returns raw response bodies (after the correlation id), matched by correlation id.
 */
import { connect, type Socket } from 'node:net';
import { Decoder } from '../../../src/broker/protocol/decoder.ts';
import { Encoder } from '../../../src/broker/protocol/encoder.ts';

export class RawClient {
  private readonly socket: Socket;
  private buffer = Buffer.alloc(0);
  private nextCorrelation = 1;
  private readonly pending = new Map<number, (body: Buffer) => void>();
  /** Correlation ids in the order responses arrived. */
  readonly arrivals: number[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  static connect(address: string): Promise<RawClient> {
    const [host, port] = address.split(':');
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port: Number(port) }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const size = this.buffer.readInt32BE(0);
      if (this.buffer.length < 4 + size) break;
      const frame = this.buffer.subarray(4, 4 + size);
      this.buffer = this.buffer.subarray(4 + size);
      const correlationId = frame.readInt32BE(0);
      this.arrivals.push(correlationId);
      const resolve = this.pending.get(correlationId);
      this.pending.delete(correlationId);
      resolve?.(Buffer.from(frame.subarray(4)));
    }
  }

  /** Builds a request frame (header v1, or v2 with `flexible`). */
  frame(
    apiKey: number,
    version: number,
    body: (e: Encoder) => void,
    correlationId: number,
    flexible = false,
  ): Buffer {
    const e = new Encoder();
    e.int32(0).int16(apiKey).int16(version).int32(correlationId).nullableString('raw-test');
    if (flexible) e.emptyTaggedFields();
    body(e);
    const buf = e.toBuffer();
    buf.writeInt32BE(buf.length - 4, 0);
    return buf;
  }

  /** Sends a request; resolves with the response body, or never (acks=0) — use `expectNoResponse`. */
  request(apiKey: number, version: number, body: (e: Encoder) => void, flexible = false): Promise<Decoder> {
    const correlationId = this.nextCorrelation++;
    const frame = this.frame(apiKey, version, body, correlationId, flexible);
    return new Promise((resolve, reject) => {
      this.pending.set(correlationId, (b) => resolve(new Decoder(b)));
      this.socket.write(frame);
      this.closed.then(() => {
        if (this.pending.has(correlationId)) reject(new Error('connection closed'));
      });
    });
  }

  /** Sends a request without waiting; returns its correlation id. */
  send(apiKey: number, version: number, body: (e: Encoder) => void): number {
    const correlationId = this.nextCorrelation++;
    this.socket.write(this.frame(apiKey, version, body, correlationId));
    return correlationId;
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}
