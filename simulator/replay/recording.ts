/**
 * Recorded traffic as JSON lines, one event per line, in the order they happened:
 *
 *   {"kind":"meta","scenario":"steady-state","seed":7,"url":"ws://…","startedAt":"…"}
 *   {"kind":"request","t":12.5,"userId":"u00042","request":{"type":"carousel","requestId":"…","slots":5,…}}
 *   {"kind":"response","t":13.6,"userId":"u00042","response":{"type":"carousel","requestId":"…","items":[…],…}}
 *   {"kind":"feedback","t":13.7,"userId":"u00042","feedback":{"type":"feedback","requestId":"…","itemId":"…","kind":"click"}}
 *
 * `t` is milliseconds since the start of the recording. `croupier simulate --record` writes these files and
 * `croupier replay` reads them.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type {
  CarouselMessage,
  CarouselRequestMessage,
  FeedbackMessage,
} from '../../src/domain/protocol-messages.ts';
import { CroupierError } from '../../src/errors/index.ts';

export type RecordedEvent =
  | { kind: 'meta'; scenario: string; seed: number; url: string; startedAt: string }
  | { kind: 'request'; t: number; userId: string; request: CarouselRequestMessage }
  | { kind: 'response'; t: number; userId: string; response: CarouselMessage }
  | { kind: 'feedback'; t: number; userId: string; feedback: FeedbackMessage };

export interface RecordingWriter {
  write(event: RecordedEvent): void;
  close(): Promise<void>;
}

export function createRecordingWriter(file: string): RecordingWriter {
  const stream: WriteStream = createWriteStream(file, { flags: 'w' });
  return {
    write: (event) => {
      stream.write(`${JSON.stringify(event)}\n`);
    },
    close: () =>
      new Promise((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      ),
  };
}

export function readRecording(file: string): RecordedEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new CroupierError(
      'CROUPIER_ERR_RECORDING_INVALID',
      `cannot read recording ${file}`,
      { file },
      { cause },
    );
  }
  const events: RecordedEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let event: RecordedEvent;
    try {
      event = JSON.parse(line) as RecordedEvent;
    } catch (cause) {
      throw new CroupierError(
        'CROUPIER_ERR_RECORDING_INVALID',
        `${file}:${i + 1} is not JSON; record with croupier simulate --record FILE`,
        { file, line: i + 1 },
        { cause },
      );
    }
    const problem = eventProblem(event);
    if (problem !== null) {
      throw new CroupierError(
        'CROUPIER_ERR_RECORDING_INVALID',
        `${file}:${i + 1}: ${problem}; record with croupier simulate --record FILE`,
        { file, line: i + 1 },
      );
    }
    events.push(event);
  }
  return events;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isText = (v: unknown): v is string => typeof v === 'string';

/**
 * What is wrong with a parsed line, or null: the fields replay and shadow read from each kind of event (a time,
 * a user, the message with its request id; a carousel's items with their ids), so that a line missing one is
 * refused where it is rather than failing later without saying which line.
 */
function eventProblem(event: unknown): string | null {
  if (!isObject(event)) return 'not an object';
  const kind = event.kind;
  if (kind === 'meta') return null;
  if (kind !== 'request' && kind !== 'response' && kind !== 'feedback') {
    return `unknown kind '${String(kind)}'`;
  }
  if (typeof event.t !== 'number' || !Number.isFinite(event.t)) return `${kind} without a finite time t`;
  if (!isText(event.userId)) return `${kind} without a userId`;
  const message = event[kind];
  if (!isObject(message) || !isText(message.requestId))
    return `${kind} without a ${kind} message and its requestId`;
  if (kind === 'feedback' && !isText(message.itemId)) return 'feedback without an itemId';
  if (kind === 'response' && message.type === 'carousel') {
    const items = message.items;
    if (!Array.isArray(items) || !items.every((item) => isObject(item) && isText(item.itemId))) {
      return 'carousel response whose items are not a list of items with an itemId';
    }
  }
  return null;
}
