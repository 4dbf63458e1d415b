import t from 'tap';
import { runSeedBatch } from './batch.js';

runSeedBatch(t, 1);
