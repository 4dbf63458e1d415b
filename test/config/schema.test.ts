import t from 'tap';
import { derivedInputs, isDerived } from '../../src/config/derived.js';
import {
  type Config,
  envName,
  propertyName,
  SCHEMA,
  SETTING_NAMES,
  settingOf,
} from '../../src/config/schema.js';
import { MAX_TIMER_MS } from '../../src/config/setting.js';

t.test('names are kebab-case and map to env vars and camelCase properties', (t) => {
  for (const name of SETTING_NAMES) t.match(name, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, name);
  t.equal(envName('bus-port'), 'LOCKSTEP_BUS_PORT');
  t.equal(propertyName('cache-max-bytes'), 'cacheMaxBytes');
  t.equal(propertyName('tls-ca-file'), 'tlsCaFile');
  t.equal(propertyName('maxclients'), 'maxclients');
  t.end();
});

t.test('every row is documented in one line that ends with a period', (t) => {
  for (const name of SETTING_NAMES) {
    const { description } = settingOf(name);
    t.match(description, /^[A-Z`].*\.$/, name);
    t.notMatch(description, /\n/, name);
    t.ok(description.length <= 110, `${name} description fits a line`);
  }
  t.end();
});

t.test('durations end in -ms and stay within what Node timers honour; sizes end in -bytes', (t) => {
  for (const name of SETTING_NAMES) {
    const setting = SCHEMA[name];
    if (name.endsWith('-ms')) t.match(setting.type, /^integer \d+\.\.\d+$/, name);
    if (name.endsWith('-ms')) t.ok(Number(setting.type.split('..')[1]) <= MAX_TIMER_MS, name);
    if (setting.kind === 'bytes') t.ok(name.endsWith('-bytes'), name);
  }
  t.end();
});

t.test('every constant default is valid and prints back to itself', (t) => {
  for (const name of SETTING_NAMES) {
    const setting = settingOf(name);
    if (isDerived(setting.default)) continue;
    const text = setting.format(setting.default);
    const parsed = setting.parse(text);
    if (text === '')
      t.ok(setting.default === null || Array.isArray(setting.default), `${name} has no default`);
    else t.same(parsed, { ok: true, value: setting.default }, name);
  }
  t.end();
});

t.test('derived defaults read settings that exist', (t) => {
  for (const name of SETTING_NAMES) {
    const setting = settingOf(name);
    if (!isDerived(setting.default)) continue;
    for (const input of derivedInputs(setting.default)) t.ok(input in SCHEMA, `${name} reads ${input}`);
  }
  t.end();
});

t.test('secrets are the password and the cluster secret', (t) => {
  t.same(
    SETTING_NAMES.filter((name) => settingOf(name).secret),
    ['requirepass', 'cluster-secret'],
  );
  t.end();
});

t.test('Config is typed from the schema', (t) => {
  // Compile-time checks: these assignments fail to typecheck if a row's type drifts.
  const sample = {} as Config;
  const typed: {
    busPort: number;
    fsync: 'always' | 'everysec' | 'no';
    requirepass: string | null;
    protectedMode: boolean;
    join: readonly { host: string; port: number }[];
    cacheProtocol: 'mesi' | 'moesi';
    data: string;
  } = sample;
  t.ok(typed);
  t.end();
});
