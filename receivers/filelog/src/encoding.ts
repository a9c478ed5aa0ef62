/**
 * Byte-level line handling per encoding. Lines are found in bytes (so checkpoints are exact byte
 * offsets) and only then decoded, one slice at a time, without copying the buffer.
 */
export interface Codec {
  readonly name: string;
  /** Bytes of one newline (2 for UTF-16). */
  readonly newlineWidth: number;
  /** Index of the next newline in buf[from, end), or -1. `from` is aligned to a code unit. */
  findNewline(buf: Buffer, from: number, end: number): number;
  decode(buf: Buffer, start: number, end: number): string;
  /** The largest cut position ≤ end (and > start) that does not split a character. */
  safeCut(buf: Buffer, start: number, end: number): number;
  /** True when buf[end - width, end) is a carriage return (for CRLF lines). */
  endsWithCr(buf: Buffer, start: number, end: number): boolean;
}

const singleByte = (name: string, enc: BufferEncoding): Codec => ({
  name,
  newlineWidth: 1,
  findNewline(buf, from, end) {
    const i = buf.indexOf(10, from);
    return i < end ? i : -1;
  },
  decode: (buf, start, end) => buf.toString(enc, start, end),
  safeCut(buf, start, end) {
    if (enc !== 'utf8') return end;
    // Back off over UTF-8 continuation bytes (10xxxxxx) so a split never cuts a character in two.
    let cut = end;
    while (cut > start + 1 && cut > end - 4 && (buf[cut]! & 0xc0) === 0x80) cut--;
    return cut;
  },
  endsWithCr: (buf, start, end) => end > start && buf[end - 1] === 13,
});

const utf16le: Codec = {
  name: 'utf-16le',
  newlineWidth: 2,
  findNewline(buf, from, end) {
    for (let i = from; i + 1 < end; i += 2) if (buf[i] === 10 && buf[i + 1] === 0) return i;
    return -1;
  },
  decode: (buf, start, end) => buf.toString('utf16le', start, end),
  safeCut(buf, start, end) {
    let cut = end - ((end - start) & 1);
    // Do not split a surrogate pair: the unit before the cut must not be a high surrogate.
    if (cut - 2 > start && (buf[cut - 1]! & 0xfc) === 0xd8) cut -= 2;
    return cut;
  },
  endsWithCr: (buf, start, end) => end - start >= 2 && buf[end - 2] === 13 && buf[end - 1] === 0,
};

const be = new TextDecoder('utf-16be');
const utf16be: Codec = {
  name: 'utf-16be',
  newlineWidth: 2,
  findNewline(buf, from, end) {
    for (let i = from; i + 1 < end; i += 2) if (buf[i] === 0 && buf[i + 1] === 10) return i;
    return -1;
  },
  decode: (buf, start, end) => be.decode(buf.subarray(start, end)),
  safeCut(buf, start, end) {
    let cut = end - ((end - start) & 1);
    if (cut - 2 > start && (buf[cut - 2]! & 0xfc) === 0xd8) cut -= 2;
    return cut;
  },
  endsWithCr: (buf, start, end) => end - start >= 2 && buf[end - 2] === 0 && buf[end - 1] === 13,
};

export function codecFor(encoding: string): Codec {
  switch (encoding.toLowerCase()) {
    case 'utf-8': case 'utf8': return singleByte('utf-8', 'utf8');
    case 'latin1': case 'iso-8859-1': return singleByte('latin1', 'latin1');
    case 'ascii': return singleByte('ascii', 'ascii');
    case 'utf-16le': return utf16le;
    case 'utf-16be': return utf16be;
    default: throw new Error(`unsupported encoding "${encoding}"`);
  }
}
