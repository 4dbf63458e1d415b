import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { renderConfigReference, usage } from '../../src/config/reference.js';
import { envName, SETTING_NAMES } from '../../src/config/schema.js';
import { GROUP_TITLES } from '../../src/config/setting.js';
import { configView } from '../../src/config/view.js';

t.test('--help lists every option with its default', (t) => {
  const text = usage();
  for (const name of SETTING_NAMES) t.match(text, `\n  --${name} `, name);
  const lines = text.split('\n');
  for (const line of [
    '  --port <n>  [default: 7379]',
    '  --bus-port <n>  [default: <port> + 10000]',
    '  --data <path>  [default: ./data/<id>]',
    '  --fsync <always|everysec|no>  [default: always]',
    '  --requirepass <password>',
  ]) {
    t.ok(lines.includes(line), line);
  }
  t.end();
});

t.test('the reference has a table per group and a row per setting', (t) => {
  const markdown = renderConfigReference();
  for (const title of Object.values(GROUP_TITLES))
    t.match(markdown, `### ${title}\n\n| Flag | Env var | Type | Default | Change | Description |`);
  for (const name of SETTING_NAMES) t.match(markdown, `| \`--${name}\` | \`${envName(name)}\` |`, name);
  t.match(markdown, '| `--fsync` | `LOCKSTEP_FSYNC` | always \\| everysec \\| no | `always` | restart |');
  t.match(markdown, '| `--partitions` | `LOCKSTEP_PARTITIONS` | integer 1..1024 | `16` | at creation |');
  t.match(markdown, '| `--max-bulk-bytes` | `LOCKSTEP_MAX_BULK_BYTES` | bytes 1..1gb | `16mb` | live |');
  t.match(markdown, '| `--requirepass` | `LOCKSTEP_REQUIREPASS` | password | none |');
  for (const row of markdown.split('\n').filter((line) => line.startsWith('| `'))) {
    t.equal(row.split(/(?<!\\)\|/).length, 8, `six cells: ${row.slice(0, 40)}`);
  }
  t.end();
});

t.test('CONFIG GET sees every setting but the secrets, as text that would set it', (t) => {
  const config = loadConfig({
    argv: ['--requirepass', 'pw', '--cluster-secret', 'sixteen-chars-long', '--join', 'a:1,[::1]:2'],
    env: {},
  });
  const view = configView(config);
  t.notOk(view.has('requirepass'));
  t.notOk(view.has('cluster-secret'));
  const redisNames = ['save', 'appendonly', 'appendfsync', 'databases', 'timeout', 'proto-max-bulk-len'];
  t.equal(
    view.size,
    SETTING_NAMES.length - 2 + redisNames.length,
    'our settings less secrets, plus Redis names',
  );
  t.same(
    redisNames.map((name) => view.get(name)),
    ['', 'no', 'always', '1', '0', String(16 * 1024 * 1024)],
    'Redis names answer with what is true of lockstep',
  );
  t.equal(view.get('bus-port'), '17379');
  t.equal(view.get('cache-max-bytes'), '64mb');
  t.equal(view.get('protected-mode'), 'yes');
  t.equal(view.get('join'), 'a:1,[::1]:2');
  t.equal(view.get('announce-host'), '');
  t.end();
});
