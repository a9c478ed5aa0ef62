import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * True when no token is configured, or the request carries it as `Authorization: Bearer …`
 * (or `access_token=` for EventSource, which cannot set headers). Compared in constant time.
 */
export function checkBearer(token: string | undefined, authorization: string | undefined, accessToken?: string | null): boolean {
  if (!token) return true;
  let given: string | undefined;
  if (authorization) {
    const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    given = m?.[1];
  } else if (accessToken) {
    given = accessToken;
  }
  if (!given) return false;
  // Hash both sides so the comparison does not leak the token's length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
