/**
 * Whether a buffer is the whole of its (non-shared) ArrayBuffer, so that ArrayBuffer can be
 * transferred to another thread without taking bytes that belong to someone else (Node's pool,
 * a socket read that other views share).
 */
export function spansWholeArrayBuffer(b: Uint8Array): boolean {
  return b.buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
}
