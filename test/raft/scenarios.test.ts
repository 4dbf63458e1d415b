import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runScenarioFile } from './interaction.js';

/** Every file in testdata/ is a scenario; see interaction.ts. `REWRITE=1` regenerates outputs. */
const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort()) {
  t.test(file, (t) => {
    runScenarioFile(join(dir, file), (actual, expected, where) => t.equal(actual, expected, where));
    t.end();
  });
}
