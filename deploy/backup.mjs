// Online backup of one node's state: SQLite's backup API copies <data>/raft.sqlite (WAL mode)
// page by page into one consistent file while the node keeps running. It reads like any
// other reader of the database and never blocks the node's writes for long.
//   node deploy/backup.mjs [data-dir] <backup-file>
//   docker-compose exec node1 node deploy/backup.mjs /data /data/backup-$(date +%F).sqlite
// data-dir defaults to LOCKSTEP_DATA. Restoring is not "copy it back into a running cluster":
// read docs/operations.md (Backup and restore) first.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';

const args = process.argv.slice(2);
const dataDir = args.length >= 2 ? args[0] : process.env.LOCKSTEP_DATA;
const target = args.at(-1);
if (dataDir === undefined || target === undefined || args.length > 2) {
  process.stderr.write('usage: node deploy/backup.mjs [data-dir] <backup-file>   (data-dir defaults to $LOCKSTEP_DATA)\n');
  process.exit(2);
}
const source = join(dataDir, 'raft.sqlite');
if (!existsSync(source)) {
  process.stderr.write(`no ${source}: is ${dataDir} a node's data directory?\n`);
  process.exit(1);
}
if (existsSync(target)) {
  process.stderr.write(`${target} exists; choose a new file\n`);
  process.exit(1);
}
const db = new Database(source, { readonly: true, fileMustExist: true });
try {
  const started = Date.now();
  await db.backup(resolve(target));
  const copy = new Database(resolve(target), { readonly: true });
  const check = copy.pragma('integrity_check', { simple: true });
  copy.close();
  if (check !== 'ok') throw new Error(`integrity_check of the copy: ${check}`);
  process.stdout.write(`backed up ${source} to ${resolve(target)} in ${Date.now() - started} ms (integrity ok)\n`);
} catch (err) {
  process.stderr.write(`backup failed: ${err.message}\n`);
  process.exit(1);
} finally {
  db.close();
}
