import { describeDerived, isDerived } from './derived.js';
import { envName, SETTING_NAMES, type SettingName, settingOf } from './schema.js';
import { type Change, GROUP_TITLES, type Group } from './setting.js';

/** The rules every setting follows, said once for `--help` and the reference. */
const SOURCES_TEXT = [
  'Every option is also an environment variable, LOCKSTEP_ and the name in upper snake case',
  '(--bus-port is LOCKSTEP_BUS_PORT), and can be set in a .env file. Flags beat the environment,',
  'the environment beats .env, .env beats the defaults. Sizes take k, m, g (powers of 1000) or',
  'kb, mb, gb (powers of 1024); durations are in the unit their name ends with.',
];

const CHANGE_TEXT: Readonly<Record<Change, string>> = {
  live: 'live',
  restart: 'restart',
  creation: 'at creation',
};

/** The text of `lockstep-server --help`. */
export function usage(): string {
  const lines = ['Usage: lockstep-server [--name value | --name=value]...', '', ...SOURCES_TEXT];
  for (const [group, names] of byGroup()) {
    lines.push('', `${GROUP_TITLES[group]}:`);
    for (const name of names) {
      const setting = settingOf(name);
      const shown = defaultText(name);
      lines.push(`  --${name} ${setting.placeholder}${shown === '' ? '' : `  [default: ${shown}]`}`);
      lines.push(`      ${setting.description}`);
    }
  }
  lines.push('', '  --help, -h', '      Print this text and exit.');
  return `${lines.join('\n')}\n`;
}

/** Markdown for the docs: a table per group, generated so it cannot fall behind the schema. */
export function renderConfigReference(): string {
  const parts = [
    SOURCES_TEXT.join(' '),
    'The *Change* column says when a new value takes effect: *restart* (read at start), ' +
      '*at creation* (fixed when the cluster or the data directory is created) or *live* ' +
      '(a running node could apply it).',
  ];
  for (const [group, names] of byGroup()) {
    const rows = names.map((name) => {
      const setting = settingOf(name);
      const shown = defaultText(name);
      return [
        `\`--${name}\``,
        `\`${envName(name)}\``,
        setting.type,
        shown === '' ? 'none' : `\`${shown}\``,
        CHANGE_TEXT[setting.change],
        setting.description,
      ];
    });
    parts.push(
      [
        `### ${GROUP_TITLES[group]}`,
        '',
        '| Flag | Env var | Type | Default | Change | Description |',
        '|---|---|---|---|---|---|',
        ...rows.map((cells) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`),
      ].join('\n'),
    );
  }
  return `${parts.join('\n\n')}\n`;
}

/** The default as `--help` shows it; empty when there is none. */
function defaultText(name: SettingName): string {
  const setting = settingOf(name);
  return isDerived(setting.default) ? describeDerived(setting.default) : setting.format(setting.default);
}

/** Settings in schema order, grouped by their first appearance. */
function byGroup(): Map<Group, SettingName[]> {
  const groups = new Map<Group, SettingName[]>();
  for (const name of SETTING_NAMES) {
    const group = settingOf(name).group;
    groups.set(group, [...(groups.get(group) ?? []), name]);
  }
  return groups;
}
