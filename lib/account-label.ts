/**
 * How every page and notification names an account: by its address, the name a person recognises
 * (never an internal id, nor "alice (127.0.0.1)"). A display name the user chose that says more
 * than the address ("Work") comes first: "Work · alice@example.com".
 */
export interface NamedAccount {
  displayName?: string | undefined;
  email?: string | undefined;
}

export function accountLabel(a: NamedAccount): string {
  const address = a.email?.trim() ?? '';
  const name = a.displayName?.trim() ?? '';
  if (!address) return name || 'an account without an address';
  if (!name || sameName(name, address)) return address;
  return `${name} · ${address}`;
}

/** "alice@example.com" and "alice" (its local part) add nothing to the address. */
function sameName(name: string, address: string): boolean {
  const n = name.toLowerCase();
  const a = address.toLowerCase();
  return n === a || n === a.split('@')[0];
}

/**
 * A relay account (its ImapAccount: name, email, user) named the same way: the address is its
 * email, else its login when that is one.
 */
export function relayAccountLabel(a: { name?: string | undefined; email?: string | undefined; user: string }): string {
  return accountLabel({ displayName: a.name, email: a.email ?? a.user });
}
