import { describe, expect, it } from 'vitest';
import { displayText } from './display-text.ts';

const line = displayText({ max: 20 });
const lines = displayText({ max: 50, min: 0, multiline: true });

describe('displayText', () => {
  it.each([
    ['Research', 'Research'],
    ['  研发 中心 ', '研发 中心'],
    ['café ☕ 😀', 'café ☕ 😀'],
    ['a\u0301', 'a\u0301'],
  ])('accepts %j as %j', (input, out) => {
    expect(line.parse(input)).toBe(out);
  });

  it.each([
    ['right-to-left override', 'gpj.\u202Eexe'],
    ['left-to-right isolate', 'a\u2066b'],
    ['zero-width space', 'a\u200Bb'],
    ['only zero-width characters', '\u200B\u200C\u200D'],
    ['byte-order mark inside', 'a\uFEFFb'],
    ['byte-order mark at the end (trimming would drop it)', 'abc\uFEFF'],
    ['NUL', 'a\u0000b'],
    ['escape', 'a\u001b[31mred'],
    ['C1 control', 'a\u0085b'],
    ['lone high surrogate', 'a\uD800b'],
    ['lone low surrogate', '\uDC00'],
    ['newline in a single-line field', 'a\nb'],
    ['trailing newline in a single-line field', 'ab\n'],
    ['tab', 'a\tb'],
    ['only spaces', '   '],
    ['only separators', '\u2028\u3000'],
    ['empty', ''],
    ['too long', 'x'.repeat(21)],
  ])('refuses %s', (_what, input) => {
    expect(line.safeParse(input).success).toBe(false);
  });

  it('allows line breaks in multi-line text only, and the empty string when min is 0', () => {
    expect(lines.parse('first line\r\nsecond line\n')).toBe('first line\r\nsecond line');
    expect(lines.parse('')).toBe('');
    expect(lines.safeParse('a\tb').success).toBe(false);
    expect(lines.safeParse('\n\u200B\n').success).toBe(false);
    expect(lines.safeParse('a\u202Eb').success).toBe(false);
    expect(lines.safeParse('a\uDFFFb').success).toBe(false);
  });

  it('names the problem', () => {
    const r = line.safeParse('\u200B');
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toContain('must not contain control or invisible format characters');
  });
});
