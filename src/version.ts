import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package version, read once from package.json (its one source). The file sits one level
 * up from `src/` when tests run the TypeScript, two from `dist/src/` when the build runs.
 */
function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'lockstep' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  throw new Error('package.json of lockstep not found above src/');
}

export const VERSION = readVersion();
