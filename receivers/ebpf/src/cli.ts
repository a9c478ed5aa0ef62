import { existsSync } from 'node:fs';
import type { CliCommand, Consumer } from '@tapio/core';
// testContext: a component context with a no-op meter and a logger, which is all a one-off CLI run needs
import { testContext } from '@tapio/core/testing';
import { createDefaultConfig, PROGRAMS, type EbpfReceiverConfig, type ProgramName } from './config';
import { findNativeDir, LoaderProcess, precheck } from './loader';
import { EbpfReceiver, loaderArgs } from './receiver';

/*
 * `tapio ebpf check`  — can this host run the ebpf receiver? Loads every program once and says
 *                       which attach and, for the others, why not. Exit 0 when all load.
 * `tapio ebpf watch [--programs a,b] [--comm NAME]` — prints live kernel events as JSON lines.
 */
export const ebpfCommand: CliCommand = {
  name: 'ebpf',
  description: 'ebpf receiver tools: "check" (can this host load the programs?), "watch" (print live kernel events)',
  async run(args: string[]): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === 'check') return check(rest);
    if (sub === 'watch') return watch(rest);
    process.stderr.write('usage: tapio ebpf check [--native-dir DIR]\n       tapio ebpf watch [--programs oom,tcp,process,syscall_errors] [--comm NAME] [--native-dir DIR]\n');
    return 2;
  },
};

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function check(args: string[]): Promise<number> {
  const nativeDir = findNativeDir(option(args, '--native-dir'));
  const lines: [string, string][] = [
    ['platform', process.platform],
    ['effective uid', String(process.geteuid?.() ?? '?')],
    ['kernel BTF', existsSync('/sys/kernel/btf/vmlinux') ? '/sys/kernel/btf/vmlinux' : 'missing'],
    ['tracefs', existsSync('/sys/kernel/tracing/events') ? 'mounted' : 'not mounted (the loader mounts it when it may)'],
    ['native dir', nativeDir],
  ];
  const problem = precheck(nativeDir);
  let ok = !problem;
  if (!problem) {
    const warnings: string[] = [];
    const loader = new LoaderProcess({
      nativeDir, args: loaderArgs(createDefaultConfig()),
      sink: { record: () => undefined, message: () => undefined, chunkDone: () => undefined },
      onWarn: (m) => warnings.push(m), onUnexpectedExit: () => undefined,
    });
    try {
      const ready = await loader.start();
      for (const p of PROGRAMS) {
        const loaded = ready.programs.includes(p);
        if (!loaded) ok = false;
        lines.push([`program ${p}`, loaded ? 'loads and attaches' : `NOT loaded: ${warnings.find((w) => w.includes(p)) ?? 'see warnings'}`]);
      }
      for (const w of warnings) lines.push(['warning', w]);
    } catch (err) {
      ok = false;
      lines.push(['result', (err as Error).message]);
    } finally {
      await loader.stop();
    }
  } else {
    lines.push(['result', problem]);
  }
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  process.stdout.write(ok ? 'ok: the ebpf receiver can run here\n' : 'the ebpf receiver cannot run fully here (see above)\n');
  return ok ? 0 : 1;
}

async function watch(args: string[]): Promise<number> {
  const config: EbpfReceiverConfig = createDefaultConfig();
  const programs = option(args, '--programs');
  if (programs) config.programs = programs.split(',') as ProgramName[];
  const comm = option(args, '--comm');
  if (comm) config.filters.comms = [comm];
  config.native_dir = option(args, '--native-dir');
  const ctx = testContext('ebpf', 'receiver', { logLevel: 'warn' });
  const out: Consumer = {
    consume: async (batch) => {
      let text = '';
      for (const e of batch.events) text += JSON.stringify(e) + '\n';
      if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
    },
  };
  const receiver = new EbpfReceiver(ctx, config, out);
  try {
    await receiver.start({ getExtension: () => undefined, getService: () => undefined, registerService: () => undefined, onService: () => undefined, reportStatus: () => undefined });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`watching ${receiver.programs.join(', ')} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
  await receiver.shutdown();
  return 0;
}
