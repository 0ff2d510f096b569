// html-to-text ships no typings; the one function relay/search uses.
declare module 'html-to-text' {
  export function compile(options?: Record<string, unknown>): (html: string) => string;
}
