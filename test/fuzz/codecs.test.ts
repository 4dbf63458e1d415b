import t from 'tap';
import { codecProperties } from '../../tools/fuzz/codecs.js';
import { fuzzTest } from './run.js';

for (const property of codecProperties) fuzzTest(t, property, 1000);
