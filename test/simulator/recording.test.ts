/**
 * A recording with a line that lacks what replay and shadow read (a time, a user, the message and its request id,
 * a carousel's items) is refused with CROUPIER_ERR_RECORDING_INVALID naming the file and line, instead of passing
 * the line on to fail later with a TypeError.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecording } from '../../simulator/replay/recording.ts';

const dir = mkdtempSync(join(tmpdir(), 'recording-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = {
  kind: 'request',
  t: 1,
  userId: 'u1',
  request: { type: 'carousel', requestId: 'r1', slots: 2 },
};
const response = {
  kind: 'response',
  t: 2,
  userId: 'u1',
  response: {
    type: 'carousel',
    requestId: 'r1',
    items: [{ itemId: 'i1', slot: 0, score: 0.1, propensity: 1 }],
  },
};
const feedback = {
  kind: 'feedback',
  t: 3,
  userId: 'u1',
  feedback: { type: 'feedback', requestId: 'r1', itemId: 'i1', kind: 'click' },
};

function recordingOf(name: string, lines: unknown[]): string {
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  return file;
}

describe('readRecording', () => {
  it('reads a whole recording', () => {
    const events = readRecording(recordingOf('whole', [request, response, feedback]));
    expect(events.map((e) => e.kind)).toEqual(['request', 'response', 'feedback']);
  });

  it('refuses a line without what replay and shadow read, naming the line', () => {
    const broken: [string, unknown][] = [
      ['null', null],
      ['number', 5],
      ['request-null', { ...request, request: null }],
      ['time-text', { ...request, t: 'abc' }],
      ['no-user', { ...request, userId: null }],
      ['items-text', { ...response, response: { ...response.response, items: 'none' } }],
      ['item-null', { ...response, response: { ...response.response, items: [null] } }],
      ['feedback-item-null', { ...feedback, feedback: { ...feedback.feedback, itemId: null } }],
    ];
    for (const [name, line] of broken) {
      const file = recordingOf(name, [request, line]);
      expect(() => readRecording(file), name).toThrow(
        expect.objectContaining({ code: 'CROUPIER_ERR_RECORDING_INVALID', details: { file, line: 2 } }),
      );
    }
  });
});
