/**
 * Intl formatters, built once per locale and options and then reused: building one costs far more
 * than formatting with it (a popup of 20 cards built several per card on every render, most of its
 * first paint's script time). Callers pass the zone in the options, so a kept formatter never
 * holds a default zone that has since changed. The keys are the few locale and option sets the
 * code writes, times the zones in use: a handful of entries.
 */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = dateFormats.get(key);
  if (!f) dateFormats.set(key, (f = new Intl.DateTimeFormat(locale, options)));
  return f;
}

export function relativeTimeFormat(locale: string, options: Intl.RelativeTimeFormatOptions): Intl.RelativeTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = relativeFormats.get(key);
  if (!f) relativeFormats.set(key, (f = new Intl.RelativeTimeFormat(locale, options)));
  return f;
}
