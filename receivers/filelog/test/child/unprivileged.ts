/**
 * Runs a filelog receiver as whatever user this process is (the test starts it as `nobody`,
 * because root reads every file regardless of mode). Prints one JSON line with what it read.
 * argv: <dir>
 */
import * as path from 'node:path';
import { run, until } from '../helpers';

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  const r = await run({ include: [path.join(dir, '*.log')] });
  await until(() => r.sink.events.length >= 2 && r.receiver.stats.fileErrors >= 1, 'the readable file and the permission error', 10_000);
  // A few more polls: the unreadable file must not be warned about or counted again.
  await new Promise((res) => setTimeout(res, 150));
  await r.stop();
  process.stdout.write(JSON.stringify({ uid: process.getuid?.(), bodies: r.sink.events.map((e) => e.log?.body), stats: r.receiver.stats }) + '\n');
}

main().catch((err: Error) => { process.stderr.write(err.stack + '\n'); process.exit(1); });
