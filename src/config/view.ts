import { type Config, propertyName, SETTING_NAMES, settingOf } from './schema.js';

/**
 * The settings as `CONFIG GET` shows them: flag name → the text that would set the value.
 * Secrets are left out, so no client can read a password back. A few Redis names are added,
 * answering what tools ask Redis (redis-benchmark asks `save` and `appendonly` first) with
 * what is true of lockstep: no RDB snapshots, no AOF (the Raft log in SQLite is the journal).
 */
export function configView(config: Config): ReadonlyMap<string, string> {
  const view = new Map<string, string>();
  for (const name of SETTING_NAMES) {
    const setting = settingOf(name);
    if (!setting.secret) view.set(name, setting.format(config[propertyName(name)]));
  }
  view.set('save', '');
  view.set('appendonly', 'no');
  view.set('appendfsync', config.fsync);
  view.set('databases', '1');
  view.set('timeout', String(Math.floor(config.timeoutMs / 1000)));
  view.set('proto-max-bulk-len', String(config.maxBulkBytes));
  return view;
}
