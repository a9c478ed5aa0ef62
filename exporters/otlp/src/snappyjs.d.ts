/** snappyjs ships no types; only this package's compression test imports it, to decode bodies independently of the receiver. */
declare module 'snappyjs' {
  export function compress(input: Uint8Array): Uint8Array;
  export function uncompress(input: Uint8Array): Uint8Array;
}
