import { mailkeepError } from '../../lib/protocol/error-codes.ts';

/** What a person may call a stored account on the command line. */
export interface AccountNames {
  id: string;
  user: string;
  email?: string | undefined;
}

/**
 * The one account `ref` names: its id, its login, or the address the pages show (they differ when
 * the login is a bare user name); exactly one, else NOT_FOUND or INVALID_INPUT naming the choices.
 * No zod here: `mailkeep search --account` uses it and loads no validation library.
 */
export function matchAccount<T>(items: readonly T[], ref: string, names: (t: T) => AccountNames): T {
  const byId = items.find((t) => names(t).id === ref);
  if (byId) return byId;
  const wanted = ref.toLowerCase();
  const byName = items.filter((t) => names(t).user.toLowerCase() === wanted || names(t).email?.toLowerCase() === wanted);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw mailkeepError('INVALID_INPUT', `${byName.length} accounts go by ${ref} (${byName.map((t) => names(t).id).join(', ')}); name one by its id`);
  throw mailkeepError('NOT_FOUND', `no account ${ref} (mailkeep account list shows them)`);
}
