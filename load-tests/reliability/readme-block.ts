/**
 * The README's figures of a run, kept between `<!-- name:begin -->` and `<!-- name:end -->` so that a rerun of the
 * script that measured them rewrites them (chaos-main.ts, soak-main.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const README_PATH = fileURLToPath(new URL('../../README.md', import.meta.url));

/** `text` with the block named `name` replaced by `body`; throws when the markers are missing. */
export function replaceBlock(text: string, name: string, body: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`no ${begin} … ${end} block`);
  return `${text.slice(0, from + begin.length)}\n${body.trim()}\n${text.slice(to)}`;
}

export function writeReadmeBlock(name: string, body: string, path = README_PATH): void {
  writeFileSync(path, replaceBlock(readFileSync(path, 'utf8'), name, body));
}

/** A load average as the README gives it: `1.2 / 0.9 / 0.7` (1, 5 and 15 minutes). */
export function loadAverageText(load: readonly number[]): string {
  return load.map((v) => v.toFixed(1)).join(' / ');
}
