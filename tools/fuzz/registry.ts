import { busFrameProperties } from './bus-frame.js';
import { codecProperties } from './codecs.js';
import { commandsProperty } from './commands.js';
import type { FuzzProperty } from './property.js';
import { respProperties } from './resp.js';

/**
 * Every fuzzing property by surface, in the order the soak runs them. The surface is the
 * prefix of each property's name; `--only` takes surfaces or property names.
 */
export const SURFACES: Readonly<Record<string, readonly FuzzProperty[]>> = {
  resp: respProperties,
  bus: busFrameProperties,
  codec: codecProperties,
  commands: [commandsProperty],
};
