/** Every benchmark suite, in the order `npm run bench` runs them. Add a suite with one line. */
import { httpSuite } from './http.js';
import { respSuite } from './resp.js';
import type { Suite } from './types.js';

export const SUITES: readonly Suite[] = [respSuite, httpSuite];

export function findSuite(name: string): Suite | undefined {
  return SUITES.find((s) => s.name === name);
}
