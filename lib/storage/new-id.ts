/** Random row ids: unguessable and collision-free across contexts without a counter to keep. */
export function newId(): string {
  return crypto.randomUUID();
}
