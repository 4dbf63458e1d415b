/**
 * Writes the generated references: docs/commands.md (from the command table) and
 * docs/configuration.md (from the config schema). `npm run docs`; a test fails when stale.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderGeneratedDocs } from './generated-docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
for (const [path, text] of renderGeneratedDocs()) {
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
