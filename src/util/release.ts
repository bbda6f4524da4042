// Memory handed back to the allocator at once instead of at the next full garbage collection
// (issue 9, peak RSS): ArrayBuffer.prototype.transfer(0) detaches the buffer and frees its bytes.

/**
 * Frees the bytes of `view`'s ArrayBuffer now, when `view` is all of it (a view on part of a
 * buffer may share it with others) or `whole` says the caller owns the whole buffer. Every view
 * of that buffer is empty afterwards. A SharedArrayBuffer, a detached buffer or a runtime without
 * `transfer` is left alone.
 */
export function releaseBuffer(view: ArrayBufferView, whole = false): void {
  const ab = view.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer; detached?: boolean };
  if (!(ab instanceof ArrayBuffer) || ab.detached === true || typeof ab.transfer !== "function") return;
  if (!whole && (view.byteOffset !== 0 || view.byteLength !== ab.byteLength)) return;
  ab.transfer(0);
}
