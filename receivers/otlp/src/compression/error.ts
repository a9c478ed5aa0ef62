/** A compressed body that could not be decompressed: corrupt, or larger than allowed once decompressed. */
export class InflateError extends Error {
  constructor(readonly tooLarge: boolean, message: string) { super(message); }
}

export function tooLarge(limit: number): InflateError {
  return new InflateError(true, `decompressed body exceeds the limit of ${limit} bytes`);
}

export function corrupt(encoding: string, why: string): InflateError {
  return new InflateError(false, `cannot decompress ${encoding} body: ${why}`);
}
