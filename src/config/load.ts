import { assert } from '../lib/assert.js';
import { checkConsistency } from './checks.js';
import { derivedText, describeDerived, isDerived } from './derived.js';
import { parseDotenv } from './dotenv.js';
import { ConfigError } from './errors.js';
import {
  type Config,
  ENV_PREFIX,
  envName,
  isSettingName,
  propertyName,
  SETTING_NAMES,
  type SettingName,
  settingOf,
} from './schema.js';
import { closestName } from './suggest.js';

/** Everything a node's settings come from; the caller does the I/O, so loading is pure. */
export interface ConfigSources {
  /** The command line after the program name: `process.argv.slice(2)`. */
  readonly argv: readonly string[];
  /** Usually `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The text of the `.env` file; undefined when there is none. */
  readonly dotenvText?: string | undefined;
}

/** One value as a layer gave it, and how an error names where it came from. */
interface RawValue {
  readonly text: string;
  /** `--port`, `LOCKSTEP_PORT`. */
  readonly label: string;
  /** Said after the value: ` in .env line 3`, ` (the default, <port> + 10000)`. */
  readonly where: string;
}

type Layer = ReadonlyMap<SettingName, RawValue>;

export function helpRequested(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * Resolves every setting: flags beat env (`LOCKSTEP_*`), env beats `.env`, `.env` beats the
 * default; a derived default (`bus-port`) follows the resolved value it derives from. Throws a
 * `ConfigError` with one line for the first problem, in any layer. The result is frozen.
 */
export function loadConfig({ argv, env, dotenvText }: ConfigSources): Config {
  assert(!helpRequested(argv), 'the caller answers --help with usage() before loading the config');
  const layers = [flagLayer(argv), envLayer(env), dotenvLayer(dotenvText ?? '')];
  // A value a higher layer overrides is still checked: it is wrong config waiting to bite.
  for (const layer of layers) for (const [name, raw] of layer) parseValue(name, raw);
  const values = new Map<SettingName, unknown>();
  const explicit = new Set<SettingName>();

  const resolve = (name: SettingName, chain: readonly SettingName[]): unknown => {
    if (values.has(name)) return values.get(name);
    assert(!chain.includes(name), `derived defaults form a cycle: ${[...chain, name].join(' -> ')}`);
    const setting = settingOf(name);
    let raw = layers.map((layer) => layer.get(name)).find((r) => r !== undefined);
    if (raw) explicit.add(name);
    else if (isDerived(setting.default)) {
      const text = derivedText(setting.default, (input) => {
        assert(isSettingName(input), `the default of ${name} reads an unknown setting ${input}`);
        return settingOf(input).format(resolve(input, [...chain, name]));
      });
      raw = { text, label: `--${name}`, where: ` (the default, ${describeDerived(setting.default)})` };
    }
    const value = raw ? parseValue(name, raw) : setting.default;
    values.set(name, value);
    return value;
  };

  const config: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) config[propertyName(name)] = resolve(name, []);
  // The one cast: the loop above filled every property of Config from its own schema row.
  const result = Object.freeze(config) as Config;
  checkConsistency(result, explicit);
  return result;
}

function parseValue(name: SettingName, raw: RawValue): unknown {
  const setting = settingOf(name);
  const parsed = setting.parse(raw.text);
  if (parsed.ok) return parsed.value;
  const shown = setting.secret ? '(value hidden)' : JSON.stringify(truncate(raw.text, 80));
  throw new ConfigError(`invalid ${raw.label} ${shown}${raw.where}: expected ${parsed.expected}`);
}

/** `--name value`, `--name=value`; a bool flag alone means yes; a repeated list flag appends. */
function flagLayer(argv: readonly string[]): Layer {
  const layer = new Map<SettingName, RawValue>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (!token.startsWith('--')) {
      throw new ConfigError(
        token.startsWith('-')
          ? `unknown option ${token} (options are spelled --name; see --help)`
          : `unexpected argument ${JSON.stringify(token)} (options are spelled --name value; see --help)`,
      );
    }
    const equals = token.indexOf('=');
    const name = token.slice(2, equals < 0 ? undefined : equals);
    if (!isSettingName(name)) {
      const hint = closestName(name, SETTING_NAMES);
      throw new ConfigError(`unknown option --${name} (${hint ? `did you mean --${hint}?` : 'see --help'})`);
    }
    const setting = settingOf(name);
    const next = argv[i + 1];
    let text: string;
    if (equals >= 0) text = token.slice(equals + 1);
    else if (next !== undefined && !next.startsWith('--')) {
      text = next;
      i++;
    } else if (setting.kind === 'bool') text = 'yes';
    else throw new ConfigError(`missing value for --${name} (--${name} ${setting.placeholder})`);
    const previous = layer.get(name);
    if (previous && setting.kind === 'addresses') text = `${previous.text},${text}`;
    layer.set(name, { text, label: `--${name}`, where: '' });
  }
  return layer;
}

const SETTING_BY_ENV = new Map(SETTING_NAMES.map((name) => [envName(name), name]));

/**
 * The process environment also carries variables of other tools, some with our prefix
 * (`LOCKSTEP_FUZZ_RUNS` in tests), so an unknown `LOCKSTEP_*` name is an error only when it is
 * close to a setting's: that catches a typo in `LOCKSTEP_REQUIREPASS` without breaking them.
 * An empty value counts as unset, as Compose passes `KEY=${KEY}` for an unset `KEY`.
 */
function envLayer(env: Readonly<Record<string, string | undefined>>): Layer {
  const layer = new Map<SettingName, RawValue>();
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX)) continue;
    const name = SETTING_BY_ENV.get(key);
    if (name === undefined) {
      const hint = closestName(settingNameOfEnv(key), SETTING_NAMES);
      if (hint) throw new ConfigError(`unknown setting ${key} (did you mean ${envName(hint)}?)`);
      continue;
    }
    if (value !== undefined && value !== '') layer.set(name, { text: value, label: key, where: '' });
  }
  return layer;
}

/** In `.env`, other tools' keys (Compose's) are skipped, but every `LOCKSTEP_*` key must be ours. */
function dotenvLayer(text: string): Layer {
  const layer = new Map<SettingName, RawValue>();
  for (const { key, value, line } of parseDotenv(text)) {
    if (!key.startsWith(ENV_PREFIX)) continue;
    const name = SETTING_BY_ENV.get(key);
    if (name === undefined) {
      const hint = closestName(settingNameOfEnv(key), SETTING_NAMES);
      throw new ConfigError(
        `unknown setting ${key} in .env line ${line}${hint ? ` (did you mean ${envName(hint)}?)` : ''}`,
      );
    }
    if (value === '') layer.delete(name);
    else layer.set(name, { text: value, label: key, where: ` in .env line ${line}` });
  }
  return layer;
}

/** `LOCKSTEP_ELECTION_TIMEOUT` → `election-timeout`, to compare with setting names. */
function settingNameOfEnv(key: string): string {
  return key.slice(ENV_PREFIX.length).toLowerCase().replaceAll('_', '-');
}

function truncate(text: string, maxLength: number): string {
  return text.length > maxLength ? `${text.slice(0, maxLength)}...` : text;
}
