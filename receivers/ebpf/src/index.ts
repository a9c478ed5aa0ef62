import { defineReceiver } from '@tapio/core';
import { configSchema, createDefaultConfig, PROGRAMS, SYSCALLS, type EbpfReceiverConfig, type ProgramName } from './config';
import { EbpfReceiver, loaderArgs } from './receiver';
import { ebpfCommand } from './cli';

export { cgroupInfo, underAny, type CgroupInfo } from './cgroup';
export { decodeRecord, ipString, REC, RECORD_SIZES, ABI_VERSION, type DecodeContext } from './decode';
export { FrameReader, findNativeDir, precheck, LOADER_BINARY, type LoaderMessage, type ProgramStats } from './loader';
export { ebpfCommand, EbpfReceiver, loaderArgs, configSchema, createDefaultConfig, PROGRAMS, SYSCALLS, type EbpfReceiverConfig, type ProgramName };

export default defineReceiver<EbpfReceiverConfig>({
  type: 'ebpf',
  stability: { events: 'alpha', logs: 'alpha' },
  configSchema,
  createDefaultConfig,
  commands: [ebpfCommand],
  create(ctx, config, next) {
    return new EbpfReceiver(ctx, config, next);
  },
});
