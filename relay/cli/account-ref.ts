import { mailkeepError } from '../../lib/protocol/error-codes.ts';

/** What a person may call a stored account on the command line. */
export interface AccountNames {
  id: string;
  user: string;
  email?: string | undefined;
  /** What the pages and `account list` call it (`account add --name`). */
  name?: string | undefined;
}

/**
 * The one account `ref` names: its id, its login, the address the pages show (they differ when
 * the login is a bare user name) or the name it was given (`--name Home`), any case; exactly one,
 * else NOT_FOUND or INVALID_INPUT naming the choices.
 * No zod here: `mailkeep search --account` uses it and loads no validation library.
 */
export function matchAccount<T>(items: readonly T[], ref: string, names: (t: T) => AccountNames): T {
  const byId = items.find((t) => names(t).id === ref);
  if (byId) return byId;
  const wanted = ref.toLowerCase();
  const byName = items.filter((t) => {
    const n = names(t);
    return n.user.toLowerCase() === wanted || n.email?.toLowerCase() === wanted || n.name?.toLowerCase() === wanted;
  });
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw mailkeepError('INVALID_INPUT', `${byName.length} accounts go by ${ref} (${byName.map((t) => names(t).id).join(', ')}); name one by its id`);
  throw mailkeepError('NOT_FOUND', `no account ${ref} (mailkeep account list shows them)`);
}
