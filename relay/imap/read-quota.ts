import type { ImapFlow } from 'imapflow';

/** A server's storage quota for the INBOX's quota root, in bytes (imapflow converts QUOTA's KiB). */
export interface ServerQuota {
  usedBytes: number | null;
  limitBytes: number | null;
  messages: number | null;
  messageLimit: number | null;
}

/**
 * GETQUOTAROOT INBOX, when the server advertises QUOTA (RFC 9208); null when it does not, reports
 * none, or refuses: a dry run without a quota just has nothing to warn about. A session that broke
 * on the way is thrown, as any lost connection.
 */
export async function readQuota(client: ImapFlow): Promise<ServerQuota | null> {
  if (!client.capabilities.has('QUOTA')) return null;
  try {
    const q = await client.getQuota('INBOX');
    if (!q) return null;
    return {
      usedBytes: q.storage?.usage ?? null,
      limitBytes: q.storage?.limit ?? null,
      messages: q.message?.usage ?? null,
      messageLimit: q.message?.limit ?? null,
    };
  } catch (err) {
    if (!client.usable) throw err;
    return null;
  }
}
