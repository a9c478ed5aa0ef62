import { ConfigError, type Batch, type ComponentContext, type Consumer, type Processor } from '@tapio/core';
import type { SemanticConfig } from './config';
import { RuleEngine } from './engine';
import { loadLibrary } from './library';
import { RuleLoadError } from './rules/load';

export class SemanticProcessor implements Processor {
  readonly capabilities = { mutatesData: true };
  readonly engine: RuleEngine;
  private readonly countTagged: (n: number) => void;
  private readonly countFailed: (n: number) => void;

  constructor(private readonly ctx: ComponentContext, private readonly cfg: SemanticConfig, private readonly next: Consumer) {
    try {
      const lib = loadLibrary(cfg);
      this.engine = new RuleEngine(lib.rules, lib.vars, cfg.max_rate_keys);
    } catch (err) {
      // Surfaces as a config error (tapio validate / start) naming the file, rule and reason.
      if (err instanceof RuleLoadError) {
        throw new ConfigError(err.problems.map((p) => ({ path: `processors.${ctx.id}`, message: p })));
      }
      throw err;
    }
    this.countTagged = ctx.telemetry.counter('tapio_semantic_tagged_events', 'Events a semantic rule matched');
    this.countFailed = ctx.telemetry.counter('tapio_semantic_failed_events', 'Events whose rule evaluation threw; passed on untagged');
    ctx.logger.debug({ rules: this.engine.rules.length }, 'semantic rules loaded');
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  consume(batch: Batch): Promise<void> {
    const events = batch.events;
    const engine = this.engine;
    const overwrite = this.cfg.overwrite;
    let tagged = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.semantic && !overwrite) continue;
      try {
        const r = engine.match(e);
        if (r) { engine.apply(r, e); tagged++; }
      } catch (err) {
        this.countFailed(1);
        this.ctx.logger.debug({ err: (err as Error).message, id: e?.id }, 'rule evaluation failed; event passed on untagged');
      }
    }
    if (tagged) this.countTagged(tagged);
    return this.next.consume(batch);
  }
}
