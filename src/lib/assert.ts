/**
 * Assertions that stay on in production (TigerBeetle style): a broken invariant stops the
 * operation loudly instead of letting a replica diverge quietly.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
