import t from 'tap';
import { busFrameProperties } from '../../tools/fuzz/bus-frame.js';
import { fuzzTest } from './run.js';

for (const property of busFrameProperties) fuzzTest(t, property, 2000);
