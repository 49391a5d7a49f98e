import { describe, expect, it } from 'vitest';
import { replaceBlock } from '../../load-tests/reliability/readme-block.ts';

describe('README figure blocks', () => {
  it('replaces only what lies between the markers of its name, again on a rerun', () => {
    const text =
      'a\n<!-- chaos:begin -->\nold\n<!-- chaos:end -->\nb\n<!-- soak:begin -->\nkeep\n<!-- soak:end -->\n';
    const once = replaceBlock(text, 'chaos', '| new |\n');
    expect(once).toBe(
      'a\n<!-- chaos:begin -->\n| new |\n<!-- chaos:end -->\nb\n<!-- soak:begin -->\nkeep\n<!-- soak:end -->\n',
    );
    expect(replaceBlock(once, 'chaos', '| newer |')).toContain(
      '<!-- chaos:begin -->\n| newer |\n<!-- chaos:end -->',
    );
  });

  it('refuses a text without the block instead of appending figures somewhere', () => {
    expect(() => replaceBlock('no markers here', 'soak', 'x')).toThrow(/soak:begin/);
  });
});
