import t from 'tap';
import { respProperties } from '../../tools/fuzz/resp.js';
import { fuzzTest } from './run.js';

for (const property of respProperties) fuzzTest(t, property, 2000);
