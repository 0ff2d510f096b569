import { describe, expect, it } from 'vitest';
import { displayWidth, fitColumns } from '../../relay/cli/display-width.ts';

describe('terminal columns of the CLI lines', () => {
  it('counts wide (CJK, Hangul, full-width, emoji) as two, combining marks and joiners as none, the rest as one', () => {
    expect(displayWidth('Invoice')).toBe(7);
    expect(displayWidth('会議の議事録')).toBe(12);
    expect(displayWidth('한국어')).toBe(6);
    expect(displayWidth('ＡＢ')).toBe(4);
    expect(displayWidth('Grüße Москва')).toBe(12);
    expect(displayWidth('e\u0301')).toBe(1); // e + combining acute
    expect(displayWidth('📎')).toBe(2);
    expect(displayWidth('👩\u200d💻')).toBe(4); // joined emoji: each part counted, the joiner not (as most terminals without grapheme support)
    expect(displayWidth('a\u200bb')).toBe(2);
  });

  it('pads to exactly the width, and cuts with "…" without splitting a wide character across the edge', () => {
    expect(fitColumns('abc', 5)).toBe('abc  ');
    expect(displayWidth(fitColumns('会議の議事録 Lisbon', 10))).toBe(10);
    expect(fitColumns('会議の議事録', 6)).toBe('会議… ');
    expect(fitColumns('abcdef', 4)).toBe('abc…');
  });
});
