import type { ErrorCode } from '../../lib/protocol/error-codes.ts';

/** Certificate errors a CA file fixes (not an expired certificate or a wrong host name). */
const UNTRUSTED_CERT = /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|self[- ]signed|unable to verify|unable to get (local )?issuer/i;

/**
 * The CLI's `error CODE: message` line, with the next step when there is an obvious one: a
 * self-signed (or private CA) certificate is what --ca is for; a damaged archive is what repair is for. `caOption` names the flag to use
 * (migrate has --from-ca and --to-ca).
 */
export function errorLine(code: ErrorCode, message: string, caOption = '--ca FILE'): string {
  const hint =
    (code === 'TLS_CERT_UNTRUSTED' || (code === 'TLS_FAILED' && UNTRUSTED_CERT.test(message)))
      ? `; the server's certificate is not trusted: if it is self-signed or from a private CA, pass that certificate (PEM) with ${caOption}`
      : code === 'ARCHIVE_DAMAGED' && !message.includes('mailkeep repair')
        ? '; the archive is damaged: "mailkeep repair --archive DIR" rebuilds its index from the packs'
        : '';
  return `error ${code}: ${message}${hint}\n`;
}
