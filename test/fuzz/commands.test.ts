import t from 'tap';
import { commandsProperty } from '../../tools/fuzz/commands.js';
import { fuzzTest } from './run.js';

fuzzTest(t, commandsProperty, 1500);
