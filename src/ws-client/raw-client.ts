/**
 * A minimal WebSocket client over `net`, for the tools that talk to the gateway as clients do (the load
 * generator, the simulator's gateway client): HTTP/1.1 upgrade, masked text frames out, unmasked frames in, no
 * extensions (no compression). It does per message only what RFC 6455 requires — one header, one 4-byte mask,
 * one XOR pass — and hands each incoming message to a callback as a `Buffer` without decoding it, so the load
 * generator costs a small fraction of what the server under test does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { CroupierError } from '../errors/index.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE_CONTINUATION = 0x0;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;

export interface RawClientOptions {
  url: string;
  /** Called with each complete text or binary message. */
  onMessage: (message: Buffer) => void;
  onClose?: (reason: string) => void;
  connectTimeoutMs?: number;
}

/** Builds one client frame: FIN, the opcode, the payload length, a mask key and the masked payload. */
export function encodeClientFrame(
  payload: Buffer,
  opcode = OPCODE_TEXT,
  maskWord = (Math.random() * 2 ** 32) >>> 0,
) {
  const length = payload.length;
  const header = length < 126 ? 6 : length < 65536 ? 8 : 14;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = 0x80 | length;
  } else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.writeUInt32BE(maskWord, header - 4);
  const m0 = frame[header - 4];
  const m1 = frame[header - 3];
  const m2 = frame[header - 2];
  const m3 = frame[header - 1];
  let i = 0;
  for (; i + 3 < length; i += 4) {
    frame[header + i] = payload[i] ^ m0;
    frame[header + i + 1] = payload[i + 1] ^ m1;
    frame[header + i + 2] = payload[i + 2] ^ m2;
    frame[header + i + 3] = payload[i + 3] ^ m3;
  }
  const mask = [m0, m1, m2, m3];
  for (; i < length; i++) frame[header + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** Incremental parser of server frames (unmasked); calls back once per complete message. */
export class FrameParser {
  private pending: Buffer | null = null;
  private fragments: Buffer[] = [];

  constructor(
    private readonly onMessage: (message: Buffer) => void,
    private readonly onControl: (opcode: number, payload: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let offset = 0;
    for (;;) {
      const available = buf.length - offset;
      if (available < 2) break;
      const b0 = buf[offset];
      const b1 = buf[offset + 1];
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (available < 4) break;
        length = buf.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (available < 10) break;
        length = buf.readUInt32BE(offset + 2) * 2 ** 32 + buf.readUInt32BE(offset + 6);
        header = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      if (masked) header += 4;
      if (available < header + length) break;
      let payload = buf.subarray(offset + header, offset + header + length);
      if (masked) payload = unmask(payload, buf.subarray(offset + header - 4, offset + header));
      offset += header + length;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode >= 0x8) {
        this.onControl(opcode, payload);
      } else if (fin && opcode !== OPCODE_CONTINUATION && this.fragments.length === 0) {
        this.onMessage(payload);
      } else {
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = [];
          this.onMessage(whole);
        }
      }
    }
    if (offset < buf.length) this.pending = Buffer.from(buf.subarray(offset));
  }
}

function unmask(payload: Buffer, mask: Buffer): Buffer {
  const out = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i] ^ mask[i & 3];
  return out;
}

export interface RawWebSocket {
  /** Sends one text message (a string is UTF-8 encoded). */
  send(message: string | Buffer): boolean;
  /** Sends a frame already encoded with `encodeClientFrame`. */
  sendFrame(frame: Buffer): boolean;
  readonly socket: Socket;
  close(): Promise<void>;
}

/** Opens a WebSocket connection; resolves once the server has answered the upgrade with 101. */
export function connectRaw(options: RawClientOptions): Promise<RawWebSocket> {
  const url = new URL(options.url);
  if (url.protocol !== 'ws:') {
    throw new CroupierError(
      'CROUPIER_ERR_LOADTEST_OPTIONS',
      `the load generator speaks plain ws:// only, got ${options.url}; terminate TLS in front of the gateway`,
      { url: options.url },
    );
  }
  const port = Number(url.port || 80);
  const host = url.hostname;
  const key = randomBytes(16).toString('base64');
  const expected = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    let upgraded = false;
    let head = Buffer.alloc(0);
    let closed = false;
    let closeResolve: (() => void) | undefined;
    const fail = (reason: string, cause?: unknown) => {
      socket.destroy();
      reject(
        new CroupierError(
          'CROUPIER_ERR_LOADTEST_CONNECT',
          `cannot open a WebSocket to ${options.url}: ${reason}; is the server running?`,
          { url: options.url },
          { cause },
        ),
      );
    };
    const timer = setTimeout(() => fail('timed out'), options.connectTimeoutMs ?? 10_000);
    const parser = new FrameParser(options.onMessage, (opcode, payload) => {
      if (opcode === OPCODE_PING) socket.write(encodeClientFrame(payload, 0xa));
      else if (opcode === OPCODE_CLOSE && !closed) {
        closed = true;
        socket.end(encodeClientFrame(payload.subarray(0, 2), OPCODE_CLOSE));
      }
    });
    const handle: RawWebSocket = {
      socket,
      send: (message) =>
        socket.write(encodeClientFrame(typeof message === 'string' ? Buffer.from(message) : message)),
      sendFrame: (frame) => socket.write(frame),
      close: () =>
        new Promise<void>((done) => {
          if (socket.destroyed) return done();
          closeResolve = done;
          if (!closed) {
            closed = true;
            const code = Buffer.from([0x03, 0xe8]);
            socket.end(encodeClientFrame(code, OPCODE_CLOSE));
          }
          setTimeout(() => socket.destroy(), 1000).unref();
        }),
    };
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) return parser.push(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      const response = head.subarray(0, end).toString('latin1');
      const status = response.slice(0, response.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 101/.test(status)) return fail(`the server answered '${status}'`);
      const accept = /sec-websocket-accept:\s*(\S+)/i.exec(response)?.[1];
      if (accept !== expected) return fail('the server sent a wrong Sec-WebSocket-Accept');
      upgraded = true;
      clearTimeout(timer);
      resolve(handle);
      const rest = head.subarray(end + 4);
      if (rest.length > 0) parser.push(rest);
    });
    socket.on('error', (error) => {
      if (!upgraded) fail(error.message, error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      options.onClose?.(closed ? 'closed' : 'connection lost');
      closeResolve?.();
    });
    socket.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

export { OPCODE_BINARY, OPCODE_TEXT };
