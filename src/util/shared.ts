// Bytes that worker threads read without a copy of their own: a SharedArrayBuffer is attached to,
// not cloned, when posted.

/** The bytes in a SharedArrayBuffer (as they are when they already lie in one): every worker attaches to the same copy. */
export function shared(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const out = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  out.set(bytes);
  return out;
}
