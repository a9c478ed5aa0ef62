import { defineSimpleProcessor, type AttributeValue, type UnifiedEvent } from '@tapio/core';

/** One action, with the OpenTelemetry Collector attributes processor's names. */
export interface AttributeAction {
  key: string;
  action: 'insert' | 'update' | 'upsert' | 'delete';
  value?: AttributeValue;
  /** Copy the value from another attribute instead of `value`. */
  from_attribute?: string;
}

export interface AttributesConfig {
  actions: AttributeAction[];
  /** Apply to resource attributes instead of event attributes. */
  target: 'attributes' | 'resource';
}

function apply(events: UnifiedEvent[], cfg: AttributesConfig): UnifiedEvent[] {
  const actions = cfg.actions;
  const onResource = cfg.target === 'resource';
  for (let i = 0; i < events.length; i++) {
    const attrs = onResource ? events[i]!.resource : events[i]!.attributes;
    for (let j = 0; j < actions.length; j++) {
      const a = actions[j]!;
      const has = Object.prototype.hasOwnProperty.call(attrs, a.key);
      if (a.action === 'delete') { if (has) delete attrs[a.key]; continue; }
      const value = a.from_attribute !== undefined ? attrs[a.from_attribute] : a.value;
      if (value === undefined) continue;
      if (a.action === 'insert' && has) continue;
      if (a.action === 'update' && !has) continue;
      attrs[a.key] = value;
    }
  }
  return events;
}

export default defineSimpleProcessor<AttributesConfig>({
  type: 'attributes',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  mutatesData: true,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['actions'],
    properties: {
      target: { enum: ['attributes', 'resource'], default: 'attributes' },
      actions: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['key', 'action'],
          properties: {
            key: { type: 'string', minLength: 1 },
            action: { enum: ['insert', 'update', 'upsert', 'delete'] },
            value: {},
            from_attribute: { type: 'string' },
          },
        },
      },
    },
  },
  createDefaultConfig: () => ({ actions: [{ key: 'tapio.processed', action: 'upsert', value: true }], target: 'attributes' }),
  setup: (_ctx, config) => (events) => apply(events, config),
});
