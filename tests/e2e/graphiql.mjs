// Drives the playground, GraphiQL at /, in headless Chromium against a running demo vsys: a query runs,
// the editor completes and validates from the schema, the docs explorer, prettify and history
// work, the example operations and the sign-in helper (both steps, the token put in the
// headers) are there, and a subscription receives an event over graphql-ws. Nothing is
// fetched from another host. Screenshot: target/artefacts/graphiql.png.
//
//   node tests/e2e/graphiql.mjs http://127.0.0.1:8080 /path/to/mail-dir "<command that commits one event>"
import { execSync } from 'node:child_process';
import { checks, launch, mailsNow, waitForMail, DEMO_PASSWORD, CODE, artefactsDir } from './support.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const mailDir = process.argv[3] ?? 'mail';
const publishCommand = process.argv[4];
const artefacts = artefactsDir();
const { check, failures } = checks();

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return;
    if (url.host !== new URL(base).host) pageErrors.push(`request to ${url.host}`);
  });
  await page.goto(`${base}/`);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20000 });
  const editor = (selector) => ({
    // GraphiQL reads the operation's name from the text a moment after a change.
    set: async (text) => {
      await page.evaluate(([s, t]) => document.querySelector(`${s} .CodeMirror`).CodeMirror.setValue(t), [selector, text]);
      await page.waitForTimeout(500);
    },
    get: () => page.evaluate((s) => document.querySelector(`${s} .CodeMirror`).CodeMirror.getValue(), selector),
  });
  const query = editor('.graphiql-query-editor');
  const result = () => page.evaluate(() => document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue() ?? '');
  const run = () => page.click('.graphiql-execute-button');

  // A query over HTTP.
  await run();
  await page.waitForFunction(() => document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue().includes('北海道'), null, { timeout: 15000 })
    .then(() => check('a query runs over HTTP', true), () => check('a query runs over HTTP', false));

  // Completion and validation from the schema.
  await query.set('');
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.type('{ prefe');
  await page.keyboard.press('Control+Space');
  await page.waitForSelector('.CodeMirror-hints', { timeout: 10000 })
    .then(async () => check('the editor completes field names from the schema', (await page.textContent('.CodeMirror-hints')).includes('prefectures')),
      () => check('the editor completes field names from the schema', false));
  await page.keyboard.press('Escape');
  await query.set('{ noSuchField }');
  await page.waitForSelector('.graphiql-query-editor .CodeMirror-lint-mark-error', { timeout: 10000 })
    .then(() => check('the editor marks an unknown field', true), () => check('the editor marks an unknown field', false));

  // Prettify.
  await query.set('{prefectures(first:1){edges{node{name}}}}');
  await page.click('button[aria-label^="Prettify"]');
  check('prettify formats the query', (await query.get()).includes('\n  prefectures(first: 1) {'));

  // The docs explorer and the history.
  await page.click('button[aria-label="Show Documentation Explorer"]');
  await page.waitForSelector('.graphiql-doc-explorer', { timeout: 10000 });
  check('the docs explorer shows the schema', (await page.textContent('.graphiql-doc-explorer')).includes('Query'));
  await page.click('button[aria-label="Show History"]');
  await page.waitForSelector('.graphiql-history', { timeout: 10000 });
  check('the history lists the query run', (await page.locator('.graphiql-history-item').count()) >= 1);

  // The example operations per role.
  await page.click('button[aria-label="Show Examples / 例"]');
  await page.waitForSelector('.vsys-example', { timeout: 10000 });
  const examples = await page.locator('.vsys-example').count();
  check(`the example operations are offered (${examples})`, examples > 5);
  await page.locator('.vsys-example').first().click();
  check('an example fills the editor', (await query.get()).length > 20);

  // The sign-in helper: both steps, then the Authorization header is filled.
  await page.click('button[aria-label="Show Sign in / サインイン"]');
  const since = mailsNow(mailDir);
  await page.fill('#vsys-username', 'meguro.admin');
  await page.fill('#vsys-password', DEMO_PASSWORD);
  await page.click('.vsys-sign-in button[type="submit"]');
  await page.waitForSelector('#vsys-code', { timeout: 10000 });
  const [, code] = await waitForMail(mailDir, 'meguro.admin@demo.vsys.invalid', since, CODE);
  await page.fill('#vsys-code', code);
  await page.click('.vsys-sign-in button[type="submit"]');
  await page.waitForFunction(() => document.getElementById('vsys-sign-in-message')?.textContent.includes('Signed in'), null, { timeout: 10000 });
  await page.click('.graphiql-editor-tools button:has-text("Headers")');
  const headers = await page.evaluate(() => [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')].map((e) => e.CodeMirror.getValue()).join('\n'));
  check('the sign-in helper fills the Authorization header', headers.includes('Bearer '));
  await query.set('{ me { username role } }');
  await run();
  await page.waitForFunction(() => document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue().includes('meguro.admin'), null, { timeout: 10000 })
    .then(() => check('queries run as the signed-in user', true), async () => check(`queries run as the signed-in user (${await result()} with ${headers})`, false));

  // A subscription over graphql-ws.
  await query.set('subscription { events { sequence topic payload } }');
  await run();
  await page.waitForTimeout(1500);
  if (publishCommand) {
    execSync(publishCommand, { stdio: 'inherit' });
    await page.waitForFunction(() => document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue().includes('from-the-browser-test'), null, { timeout: 15000 })
      .then(() => check('a subscription receives an event over graphql-ws', true), async () => check(`a subscription receives an event over graphql-ws (${await result()})`, false));
  }
  await run(); // stops the subscription
  const japanese = await page.evaluate(() => [...document.fonts].some((f) => f.family.replace(/"/g, '') === 'vsys Gothic Web JP' && f.status === 'loaded'));
  check('Japanese in the editor renders in the shipped web font', japanese);
  await page.screenshot({ path: `${artefacts}/graphiql.png` });
  check('no script errors and no requests to other hosts', pageErrors.length === 0 || (console.log(pageErrors), false));
} catch (error) {
  check(error.stack ?? error.message, false);
} finally {
  await browser.close();
}
console.log(`graphiql: ${failures() === 0 ? 'all checks passed' : `${failures()} failed`}`);
process.exit(failures() === 0 ? 0 : 1);
