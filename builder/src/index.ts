export { buildDistribution, main, type BuildOptions, type BuildReport } from './cli';
export { bundle, type BundleInput, type BundleResult } from './bundle';
export { BuildError, generate, resolveComponent, type GenerateResult, type ResolvedComponent } from './generate';
export { MANIFEST_SCHEMA, readBuildManifest, type BuildManifest, type ComponentEntry } from './manifest';
export { STARTER_MANIFEST } from './starter';
