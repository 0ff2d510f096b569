// html-to-text ships no typings; the one function relay/search uses.
declare module 'html-to-text' {
  export function convert(html: string, options?: Record<string, unknown>): string;
}
