// Drives the playground in headless Chromium against a running vsys: the schema browser loads,
// a query runs over HTTP, a subscription runs over the websocket and receives an event that
// another process commits to the outbox, and Stop closes the socket cleanly.
//
//   node tests/e2e/playground.mjs http://127.0.0.1:8080 <command that commits one event>
import { execSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const publishCommand = process.argv[3];
const screenshot = process.env.PLAYGROUND_SCREENSHOT ?? 'target/playground.png';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failures = 0;
function check(name, condition) {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${name}`);
  if (!condition) failures += 1;
}

try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.hostname !== new URL(base).hostname) pageErrors.push(`request to ${url.host}`);
  });
  await page.goto(`${base}/`);

  await page.waitForFunction(() => /type\(s\)/.test(document.getElementById('schema-status').textContent), null, { timeout: 15000 });
  check('the schema browser lists the types', await page.locator('#type-list').getByText('Facility', { exact: true }).count() > 0);

  await page.fill('#query', '{ prefecture(code: "13") { name nameRomaji } }');
  await page.fill('#variables', '');
  await page.click('#run');
  await page.waitForFunction(() => document.getElementById('output').textContent.includes('Tokyo'), null, { timeout: 15000 });
  check('a query runs over HTTP', (await page.textContent('#output')).includes('東京都'));

  await page.selectOption('#examples', { label: 'prefectures' }).catch(() => {});
  const examples = await page.locator('#examples option').count();
  check('the example operations are offered', examples > 5);

  await page.fill('#query', 'subscription { events { sequence topic payload } }');
  await page.click('#run');
  await page.waitForFunction(() => /Subscribed/.test(document.getElementById('status').textContent), null, { timeout: 15000 });
  check('a subscription is acknowledged over the websocket', true);
  if (publishCommand) {
    execSync(publishCommand, { stdio: 'inherit' });
    await page.waitForFunction(() => document.getElementById('log').textContent.includes('from-the-browser-test'), null, { timeout: 15000 });
    check('a committed event reaches the page', true);
  }
  await page.click('#stop');
  await page.waitForFunction(() => /1000/.test(document.getElementById('close-info').textContent), null, { timeout: 15000 });
  check('Stop closes the websocket cleanly (1000)', true);
  check('no script errors and no requests to other hosts', pageErrors.length === 0 || (console.log(pageErrors), false));
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (error) {
  console.log('FAIL', error.message);
  failures += 1;
} finally {
  await browser.close();
}
console.log(`playground: ${failures === 0 ? 'all checks passed' : `${failures} failed`}`);
process.exit(failures === 0 ? 0 : 1);
