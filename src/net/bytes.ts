/**
 * A plain Uint8Array view of `bytes` (no copy). libp2p hands out Node Buffers; bytes inside the node are Uint8Array,
 * and the two differ for deep equality and for `slice` (a Buffer's slice shares memory).
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
