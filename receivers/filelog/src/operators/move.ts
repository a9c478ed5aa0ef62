import type { AttributeValue, UnifiedEvent } from '@tapio/core';
import { deleteField, parseField, setField, type FieldRef } from '../fields';
import { Options } from './options';
import { CONTINUE, type Operator, type Verdict } from './types';

/** `move`: from → to (e.g. `attributes.message` → `body` after a JSON parse). */
export class MoveOperator implements Operator {
  private readonly from: FieldRef;
  private readonly to: FieldRef;
  constructor(readonly id: string, o: Options) {
    const from = o.str('from'); const to = o.str('to');
    if (!from || !to) throw new Error(`${o.where}: move needs from and to`);
    this.from = parseField(from); this.to = parseField(to);
  }
  process(e: UnifiedEvent): Verdict {
    const v = deleteField(e, this.from);
    if (v !== undefined) setField(e, this.to, v);
    return CONTINUE;
  }
}

/** `remove`: deletes a field. */
export class RemoveOperator implements Operator {
  private readonly field: FieldRef;
  constructor(readonly id: string, o: Options) {
    const f = o.str('field');
    if (!f) throw new Error(`${o.where}: remove needs field`);
    this.field = parseField(f);
  }
  process(e: UnifiedEvent): Verdict { deleteField(e, this.field); return CONTINUE; }
}

/** `add`: sets a field to a constant value. */
export class AddOperator implements Operator {
  private readonly field: FieldRef;
  private readonly value: AttributeValue;
  constructor(readonly id: string, o: Options) {
    const f = o.str('field');
    if (!f) throw new Error(`${o.where}: add needs field`);
    this.field = parseField(f);
    this.value = o.any('value') as AttributeValue;
    if (this.value === undefined) throw new Error(`${o.where}: add needs value`);
  }
  process(e: UnifiedEvent): Verdict { setField(e, this.field, this.value); return CONTINUE; }
}
