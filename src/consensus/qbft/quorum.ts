/** Besu `BftHelpers.calculateRequiredValidatorQuorum`: ceil(2n/3). */
export function quorum(n: number): number {
  return Math.ceil((2 * n) / 3)
}

/** Byzantine validators tolerated: floor((n-1)/3); 0 for an empty set. */
export function faultTolerance(n: number): number {
  return n > 0 ? Math.floor((n - 1) / 3) : 0
}
