/**
 * The local archive file system's `createText` (a partition's first marker, a marker claim) under two writes of one
 * path at once in one process: the one told it created the file finds its own text there.
 */
import { describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { tempDir } from './support/archive-stack.ts';

describe('createText of one path twice at once', () => {
  it('creates it once, with the text of the write told it created it', async () => {
    const tmp = await tempDir('create-text');
    const fs = createLocalFileSystem(tmp.dir);
    const wrong: string[] = [];
    for (let round = 0; round < 300; round++) {
      const path = `+offsets/t/${round}.claims/x.1.json`;
      const texts = [`a${round}`, `b${round}`];
      const created = await Promise.all(
        texts.map(async (text) => {
          // As a claim is made: a write told the path is taken that finds nothing there tries again at once, and so
          // does one whose link failed.
          for (let attempt = 0; attempt < 3; attempt++) {
            const made = await fs.createText(path, text).catch(() => null);
            if (made === true) return true;
            if (made === false && (await fs.readText(path)) !== null) return false;
          }
          return false;
        }),
      );
      const found = await fs.readText(path);
      const winners = texts.filter((_, i) => created[i]);
      if (winners.length !== 1 || winners[0] !== found)
        wrong.push(`round ${round}: ${winners.join('+')} told, ${found} there`);
    }
    expect(wrong).toEqual([]);
    await tmp.remove();
  }, 60_000);
});
