import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import t from 'tap';
import { FAST_CLUSTER_ARGS, startTestCluster, waitForCluster } from '../helpers/cluster.js';
import { api } from './helpers.js';

/**
 * The status page in a real browser (Debian's chromium, driven by playwright-core): it loads,
 * polls, shows the three nodes, the groups, a held lock and a queue, renders users' names as
 * text, and shows a killed node as unreachable within a few polls. Leaves a screenshot.
 */
const CHROMIUM = process.env['LOCKSTEP_CHROMIUM'] ?? '/usr/bin/chromium';
const SCREENSHOT = resolve('test-output', 'status-page.png');
const SCREENSHOT_DOWN = resolve('test-output', 'status-page-node-down.png');

t.test('the status page in chromium', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.comment(
      `SKIPPED: no chromium at ${CHROMIUM}; install it with \`apt-get install -y --no-install-recommends chromium\``,
    );
    t.skip(`chromium not installed at ${CHROMIUM}`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const cluster = await startTestCluster(t, { size: 3, extraArgs: FAST_CLUSTER_ARGS });
  await waitForCluster(cluster, 3);
  const n1 = cluster.node('n1').httpPort;
  const evil = '<img src=x onerror="document.body.dataset.pwned=1">';
  await api(n1, 'POST', '/lock/acquire', { name: evil, owner: 'page-test', ttl_ms: 60_000 });
  for (let i = 0; i < 3; i++) await api(n1, 'POST', '/queue/push', { queue: 'orders', payload: { i } });

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${n1}/`);
  await page.waitForSelector('body[data-loaded="yes"]', { timeout: 10_000 });

  t.equal(await page.textContent('#cluster-state'), 'ok');
  t.equal(await page.locator('#nodes tbody tr').count(), 3, 'three nodes');
  t.equal(await page.locator('#nodes tbody tr >> text=unreachable').count(), 0, 'all reachable');
  t.ok((await page.locator('#groups tbody tr').count()) >= 5, 'group 0 and the 4 partitions');
  t.match(await page.textContent('#locks tbody'), evil, 'the lock name is shown as text');
  t.equal(await page.evaluate(() => document.body.dataset['pwned']), undefined, 'and not run as markup');
  t.match(await page.textContent('#queues tbody'), /orders\s*3/);
  t.match(await page.textContent('#cache'), /n1/);
  const updated = await page.textContent('#updated');
  await page.waitForFunction(
    (before) => document.querySelector('#updated')?.textContent !== before,
    updated,
    {
      timeout: 5_000,
    },
  );
  t.pass('the page refreshes by itself');
  mkdirSync(resolve('test-output'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  t.comment(`screenshot of the healthy 3-node cluster: ${SCREENSHOT}`);

  await cluster.kill('n3');
  await page.waitForSelector('#nodes tr[data-node="n3"] >> text=unreachable', { timeout: 10_000 });
  t.pass('a killed node shows as unreachable');
  await page.screenshot({ path: SCREENSHOT_DOWN, fullPage: true });
  t.comment(`screenshot with n3 killed: ${SCREENSHOT_DOWN}`);
  t.same(pageErrors, [], 'no script errors');
});
