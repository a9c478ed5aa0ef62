import 'reflect-metadata';

/**
 * tsyringe tokens of what every collector's container holds. Components resolve them from
 * `ctx.container` (e.g. `ctx.container.resolve<Logger>(TOKENS.logger)`), and plugins may
 * register their own services in the child container they are given.
 */
export const TOKENS = {
  logger: 'tapio.logger',
  meter: 'tapio.meter',
  clock: 'tapio.clock',
  config: 'tapio.config',
} as const;

// Re-exported from here so that reflect-metadata is always loaded before tsyringe.
export { container as rootContainer } from 'tsyringe';
export type { DependencyContainer } from 'tsyringe';
