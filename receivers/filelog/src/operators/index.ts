import type { UnifiedEvent } from '@tapio/core';
import type { OperatorConfig } from '../config';
import { ContainerParser } from './container';
import { JsonParser } from './json';
import { AddOperator, MoveOperator, RemoveOperator } from './move';
import { Options } from './options';
import { ON_ERROR } from './parser';
import { RegexParser } from './regex';
import { SeverityOperator } from './severity';
import { SyslogParser } from './syslog';
import { TimeOperator } from './time';
import { TraceOperator } from './trace';
import { CONTINUE, type FileContext, type Operator, type OperatorEnv, type Verdict } from './types';

function build(cfg: OperatorConfig, where: string, env: OperatorEnv): Operator {
  const o = new Options(cfg, where);
  const id = cfg.id ?? cfg.type;
  let op: Operator;
  switch (cfg.type) {
    case 'json_parser': op = new JsonParser(id, o, env); break;
    case 'regex_parser': op = new RegexParser(id, o, env); break;
    case 'syslog_parser': op = new SyslogParser(id, o, env); break;
    case 'container': op = new ContainerParser(id, o, env); break;
    case 'time_parser': op = new TimeOperator(id, o, o.oneOf('on_error', ON_ERROR, 'send'), env); break;
    case 'severity_parser': op = new SeverityOperator(id, o); break;
    case 'trace_parser': op = new TraceOperator(id, o, o.oneOf('on_error', ON_ERROR, 'send'), env); break;
    case 'move': op = new MoveOperator(id, o); break;
    case 'remove': op = new RemoveOperator(id, o); break;
    case 'add': op = new AddOperator(id, o); break;
    default: throw new Error(`${where}.type: unknown operator "${cfg.type}"`);
  }
  o.done();
  return op;
}

/** The ordered operator chain. Built once; `run` is a plain loop (no per-entry allocation). */
export class OperatorChain {
  readonly operators: Operator[];

  constructor(configs: OperatorConfig[], env: OperatorEnv) {
    this.operators = configs.map((c, i) => build(c, `operators.${i}`, env));
  }

  run(e: UnifiedEvent, file: FileContext): Verdict {
    const ops = this.operators;
    for (let i = 0; i < ops.length; i++) {
      const v = ops[i]!.process(e, file);
      if (v !== CONTINUE) return v;
    }
    return CONTINUE;
  }
}

export type { FileContext, Operator, OperatorEnv, Verdict } from './types';
export { CONTINUE, DROP, HOLD } from './types';
export { k8sFromPath } from './container';
