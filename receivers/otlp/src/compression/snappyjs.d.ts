/** snappyjs ships no types; its block compressor is all Tapio uses (decoding is our own, strict and capped). */
declare module 'snappyjs' {
  export function compress(input: Uint8Array): Uint8Array;
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}
