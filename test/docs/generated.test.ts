import { readFileSync } from 'node:fs';
import t from 'tap';
import { renderGeneratedDocs } from '../../tools/generated-docs.js';

t.test('generated references are up to date (run `npm run docs` when this fails)', (t) => {
  for (const [path, expected] of renderGeneratedDocs()) {
    let actual = '';
    try {
      actual = readFileSync(path, 'utf8');
    } catch {
      t.fail(`${path} is missing`);
      continue;
    }
    t.equal(actual, expected, `${path} matches the source it is generated from`);
  }
  t.end();
});
