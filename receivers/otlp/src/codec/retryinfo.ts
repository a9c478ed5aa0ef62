import { Reader } from './reader';

/** The RetryInfo.retry_delay of a google.rpc.Status, in ms; undefined when absent or unreadable. */
export function decodeRetryDelayMs(status: Buffer): number | undefined {
  try {
    const r = new Reader(status);
    while (r.pos < r.end) {
      const tag = r.uint32();
      if (tag !== 26) { r.skip(tag & 7); continue; }
      const end = r.len();
      let typeUrl = '';
      let value: [number, number] | undefined;
      while (r.pos < end) {
        const t = r.uint32();
        if (t === 10) typeUrl = r.string();
        else if (t === 18) { const e = r.len(); value = [r.pos, e]; r.pos = e; }
        else r.skip(t & 7);
      }
      if (!typeUrl.endsWith('google.rpc.RetryInfo') || !value) continue;
      const ri = new Reader(status, value[0], value[1]);
      let ms = 0;
      while (ri.pos < ri.end) {
        const t = ri.uint32();
        if (t !== 10) { ri.skip(t & 7); continue; }
        const de = ri.len();
        while (ri.pos < de) {
          const t2 = ri.uint32();
          if (t2 === 8) ms += Number(ri.int64()) * 1000;
          else if (t2 === 16) ms += ri.uint32() / 1e6;
          else ri.skip(t2 & 7);
        }
      }
      return ms;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
