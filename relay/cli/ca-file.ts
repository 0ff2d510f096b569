import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * `--ca FILE` of `account add|edit` -> the PEM text kept with the account (not the path: moving or
 * deleting the file later changes nothing). Each certificate in it must parse; anything else is
 * INVALID_INPUT before the account is saved.
 */
export function readCaFile(file: string): string {
  let text: string;
  try {
    if (fs.statSync(file).size > LIMITS.accountCaMaxChars) throw mailkeepError('INVALID_INPUT', `--ca ${file} is larger than ${LIMITS.accountCaMaxChars / 1024} KiB: give only the server's certificate or its CA's (PEM)`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof Error && err.name === 'MailkeepError') throw err;
    throw mailkeepError('INVALID_INPUT', `cannot read --ca file ${file}`);
  }
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw mailkeepError('INVALID_INPUT', `--ca ${file} holds no PEM certificate (a block from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----)`);
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      throw mailkeepError('INVALID_INPUT', `--ca ${file}: certificate ${i + 1} is not a valid PEM certificate`);
    }
  }
  return `${blocks.join('\n')}\n`;
}
