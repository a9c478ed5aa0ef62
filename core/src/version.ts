// eslint-disable-next-line @typescript-eslint/no-var-requires
const pkg = require('../../package.json') as { version: string };

/** The version of @tapio/core that plugins' peer ranges are checked against. */
export const CORE_VERSION: string = pkg.version;
