/**
 * Text as the search index sees it, the same for what is indexed and what is searched for.
 *
 * The index tokenizes with SQLite's unicode61 (letters, digits, marks and private-use characters
 * make words; diacritics removed, so "koln" finds "Köln") under the Porter stemmer ("meeting"
 * finds "meetings", as notmuch's English stemming does). Chinese and Japanese are written without
 * spaces, so unicode61 would see a whole sentence as one word: each Han, Hiragana and Katakana
 * character is made a word of its own by putting a zero-width space (a separator for unicode61,
 * invisible in a snippet) around it; a query word in those scripts becomes the phrase of its
 * characters, which finds it anywhere inside a sentence. NFKC first, so full-width letters and
 * ligatures match their plain forms.
 */
export const TOKENIZER = `porter unicode61 remove_diacritics 2 categories 'L* N* Co M*'`;

const ZWSP = '\u200B';
const CJK = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]/u;
const CJK_RUN = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]+/gu;

/** Any character at or above U+2E80 (where CJK begins): a cheap test before the Unicode-property ones. */
const HIGH = /[\u2e80-\uffff]/;
const ASCII = /^[\x00-\x7f]*$/;

export function indexText(text: string): string {
  // ASCII needs neither NFKC nor the CJK split; the Unicode-property regexes and the normalizer cost
  // a one-shot `mailkeep search` milliseconds to set up on first use.
  if (ASCII.test(text)) return text;
  const t = text.normalize('NFKC');
  return HIGH.test(t) && CJK.test(t) ? t.replace(CJK_RUN, (run) => ZWSP + [...run].join(ZWSP) + ZWSP) : t;
}

/** Removes what indexText added, for display (snippets). */
export function displayText(text: string): string {
  return text.includes(ZWSP) ? text.replaceAll(ZWSP, '') : text;
}

/** Whether unicode61 finds at least one word in `text` (else an FTS phrase of it matches nothing). */
export function hasWord(text: string): boolean {
  return /[A-Za-z0-9]/.test(text) || (!ASCII.test(text) && /[\p{L}\p{N}\p{Co}]/u.test(text));
}

/** Cuts `text` to at most `max` UTF-16 units without splitting a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
