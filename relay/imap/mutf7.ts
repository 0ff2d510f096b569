/**
 * Modified UTF-7 (RFC 3501 §5.1.3), the encoding of IMAP mailbox names. imapflow encodes names it
 * sends, but the archive keeps the raw name exactly as the server listed it *and* its decoded form,
 * so the codec lives here where it can be tested on its own.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';

function encodeUtf16(units: number[]): string {
  const bytes: number[] = [];
  for (const u of units) bytes.push(u >> 8, u & 0xff);
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    out += B64[b0 >> 2];
    out += B64[((b0 & 3) << 4) | ((b1 ?? 0) >> 4)];
    if (b1 !== undefined) out += B64[((b1 & 15) << 2) | ((b2 ?? 0) >> 6)];
    if (b2 !== undefined) out += B64[b2 & 63];
  }
  return out;
}

export function encodeMutf7(name: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length) out += `&${encodeUtf16(pending)}-`;
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      flush();
      out += c === 0x26 ? '&-' : name[i];
    } else pending.push(c);
  }
  flush();
  return out;
}

/** Decodes; a malformed sequence is kept verbatim rather than throwing, since a server may list anything. */
export function decodeMutf7(raw: string): string {
  return raw.replace(/&([^-]*)-/g, (whole, b64: string) => {
    if (b64 === '') return '&';
    const bytes: number[] = [];
    let bits = 0;
    let acc = 0;
    for (const ch of b64) {
      const v = B64.indexOf(ch);
      if (v < 0) return whole;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes.push((acc >> bits) & 0xff);
      }
    }
    if (bytes.length % 2) return whole;
    let s = '';
    for (let i = 0; i < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
    return s;
  });
}
