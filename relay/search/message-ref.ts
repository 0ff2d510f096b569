import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { Db } from '../archive/schema.ts';
import type { MessageRef } from './types.ts';

/**
 * Message ids (types.ts MessageRef): `<16 hex digits of the blob hash>-<folder id>`. Both parts are
 * facts the journal carries (the hash is the content; folder ids are chosen by the writer and
 * replayed by repair), so an id copied today still names the same message after `mailkeep repair`
 * or `mailkeep reindex`. 64 bits of hash: two different messages in one folder sharing them is a
 * chance of about 1 in 10^10 even for a million messages, and is reported (never guessed) if it
 * happens.
 */
const HASH_DIGITS = 16;
const REF = /^([0-9a-f]{16})-([1-9][0-9]{0,15})$/;

export function messageRef(hash: string, folderId: number): MessageRef {
  return `${hash.slice(0, HASH_DIGITS)}-${folderId}`;
}

export function parseRef(id: string): { prefix: string; folderId: number } {
  const m = REF.exec(id);
  if (!m) throw mailkeepError('INVALID_INPUT', `"${id.slice(0, 80)}" is not a message id (16 hex digits, "-", a folder number: as mailkeep search prints it)`);
  return { prefix: m[1]!, folderId: Number(m[2]) };
}

/** The full blob hash a message id names, from the archive index attached as `arc`. */
export function resolveRef(db: Db, id: string, schema = 'arc'): { hash: string; folderId: number } {
  const { prefix, folderId } = parseRef(id);
  const hashes = db
    .prepare<[string, string, number], string>(`SELECT DISTINCT blob_hash FROM ${schema}.messages WHERE blob_hash >= ? AND blob_hash < ? AND folder_id = ? LIMIT 2`)
    .pluck()
    .all(prefix, `${prefix}g`, folderId);
  if (hashes.length === 0) throw mailkeepError('NOT_FOUND', `no archived message with id ${id} in this archive`);
  if (hashes.length > 1) throw mailkeepError('INVALID_INPUT', `message id ${id} is ambiguous: two messages in that folder share its first 64 bits of hash (list the folder with mailkeep search folder:NAME)`);
  return { hash: hashes[0]!, folderId };
}
