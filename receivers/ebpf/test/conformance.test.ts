import { conformance } from '@tapio/core/testing';
import factory from '../src/index';

// optional: true so the suite passes without root too; as root it loads the programs for real.
conformance(factory, { config: { optional: true } });
