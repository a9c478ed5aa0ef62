import { createHash } from 'node:crypto';

/**
 * SHA-crypt (`$5$` SHA-256, `$6$` SHA-512), as glibc's crypt(3) and `htpasswd -2` / `-5` write
 * it, from Ulrich Drepper's specification ("Unix crypt using SHA-256 and SHA-512"). Node has no
 * crypt(3), and the maintained JavaScript implementation is an ES module this CommonJS build
 * cannot load.
 * Returns the full hash string for `password` with the salt (and rounds) of `setting`, or
 * undefined when `setting` is not a SHA-crypt string.
 */
export function shaCrypt(password: string, setting: string): string | undefined {
  const m = /^\$([56])\$(?:rounds=(\d+)\$)?([^$]{0,16})/.exec(setting);
  if (!m) return undefined;
  const sha512 = m[1] === '6';
  const algorithm = sha512 ? 'sha512' : 'sha256';
  const size = sha512 ? 64 : 32;
  const rounds = m[2] === undefined ? DEFAULT_ROUNDS : Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Number(m[2])));
  const p = Buffer.from(password, 'utf8');
  const s = Buffer.from(m[3]!, 'utf8');
  const h = (...parts: Buffer[]): Buffer => { const x = createHash(algorithm); for (const part of parts) x.update(part); return x.digest(); };

  const b = h(p, s, p);
  const a = createHash(algorithm).update(p).update(s);
  let i = p.length;
  for (; i > size; i -= size) a.update(b);
  a.update(b.subarray(0, i));
  for (i = p.length; i > 0; i >>= 1) a.update(i & 1 ? b : p);
  let c = a.digest();

  const pSeq = repeatTo(h(...Array<Buffer>(p.length).fill(p)), p.length);
  const sSeq = repeatTo(h(...Array<Buffer>(16 + c[0]!).fill(s)), s.length);
  for (let r = 0; r < rounds; r++) {
    const x = createHash(algorithm);
    x.update(r & 1 ? pSeq : c);
    if (r % 3) x.update(sSeq);
    if (r % 7) x.update(pSeq);
    x.update(r & 1 ? c : pSeq);
    c = x.digest();
  }
  const prefix = `$${m[1]}$${m[2] === undefined ? '' : `rounds=${rounds}$`}${m[3]}$`;
  return prefix + encode(c, sha512 ? ORDER_512 : ORDER_256);
}

const DEFAULT_ROUNDS = 5000, MIN_ROUNDS = 1000, MAX_ROUNDS = 999_999_999;

/** `length` bytes of `digest` repeated (the P and S sequences of the specification). */
function repeatTo(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += digest.length) digest.copy(out, i, 0, Math.min(digest.length, length - i));
  return out;
}

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The specification's byte order: groups of three bytes (a last shorter group), 4 characters per full group, least significant 6 bits first. */
const ORDER_512 = [[0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10],
  [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41], [-1, -1, 63]];
const ORDER_256 = [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29], [-1, 31, 30]];

function encode(c: Buffer, order: number[][]): string {
  let out = '';
  for (const [i2, i1, i0] of order) {
    const byte = (i: number): number => (i < 0 ? 0 : c[i]!);
    let w = (byte(i2!) << 16) | (byte(i1!) << 8) | byte(i0!);
    // a short last group: 2 characters for one byte, 3 for two
    const chars = i2! >= 0 ? 4 : i1! >= 0 ? 3 : 2;
    for (let k = 0; k < chars; k++) { out += ALPHABET[w & 0x3f]; w >>= 6; }
  }
  return out;
}
