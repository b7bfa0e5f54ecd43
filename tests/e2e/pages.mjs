// Drives the account pages in headless Chromium against a running vsys (started with --demo,
// a mail folder and --public-url pointing at itself): the service desk invites a user, the
// invitation's link opens /setup, which requests the code and completes the first login; then
// /reset answers the security question and sets a new password. Codes and links are read from
// the .eml files the server writes.
//
//   node tests/e2e/pages.mjs http://127.0.0.1:8080 /path/to/mail-dir
import { checks, client, launch, signIn as signInWith, waitForMail as waitForMailIn, DEMO_PASSWORD, CODE } from './support.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const mailDir = process.argv[3] ?? 'mail';
const screenshot = process.env.PAGES_SCREENSHOT ?? 'target/pages.png';

const { check, failures } = checks();
const graphql = client(base);
const waitForMail = (address, since, pattern) => waitForMailIn(mailDir, address, since, pattern);
const signIn = (username, password) => signInWith(graphql, mailDir, username, password);

/** Waits for a step's result to show; on time-out, says what the page said instead. */
async function waitShown(page, selector) {
  try {
    await page.waitForSelector(`${selector}:not([hidden])`, { timeout: 15000 });
  } catch (error) {
    throw new Error(`${selector} not shown; the page says: ${await page.textContent('#message')}`);
  }
}

const browser = await launch();

try {
  const stamp = Date.now().toString(36);
  const username = `e2e.${stamp}`;
  const email = `e2e-${stamp}@meguro.example.jp`;
  const desk = await signIn('helpdesk.admin', DEMO_PASSWORD);
  const meguro = (await graphql('{ municipality(code: "131105") { id } }')).data.municipality.id;
  const inviteSince = Date.now() - 1000;
  const invited = await graphql(
    'mutation($o: ID!, $u: String!, $e: String!) { inviteUser(input: { organizationId: $o, username: $u, email: $e, displayName: "E2E 職員", role: MUNICIPALITY }) { id } }',
    { o: meguro, u: username, e: email }, desk);
  check('the service desk invites a user', Boolean(invited.data?.inviteUser?.id) || (console.log(JSON.stringify(invited)), false));
  const [link] = await waitForMail(email, inviteSince, /https?:\/\/\S+\/setup#token=[A-Za-z0-9_-]+/);
  check('the invitation links to this server\'s /setup', link.startsWith(`${base}/setup#token=`));

  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.host !== new URL(base).host) pageErrors.push(`request to ${url.host}`);
  });

  // /setup: request the code, then set the password and the security question.
  const response = await page.goto(link);
  check('the set-up link opens a page (not a 404)', response.status() === 200);
  check('the page speaks Japanese and English', (await page.textContent('h1')).includes('初回ログイン') && (await page.textContent('h1')).includes('first login'));
  check('the token is removed from the address bar', !page.url().includes('token='));
  const codeSince = Date.now() - 1000;
  await page.click('#send-code');
  await waitShown(page, '#step-finish');
  const [, code] = await waitForMail(email, codeSince, CODE);
  await page.waitForFunction(() => document.querySelectorAll('#question option').length > 1);
  const question = await page.$eval('#question option:nth-child(2)', (o) => o.value);
  await page.selectOption('#question', question);
  await page.fill('#code', code);
  await page.fill('#password', 'Hajimete-2026!');
  await page.fill('#password2', 'Hajimete-2026?');
  await page.fill('#answer', 'Tama');
  await page.click('#finish');
  await page.waitForFunction(() => document.getElementById('message').textContent.includes('differ'));
  check('differing passwords are caught on the page', await page.isHidden('#done'));
  await page.fill('#password2', 'Hajimete-2026!');
  await page.click('#finish');
  await waitShown(page, '#done');
  check('the first login completes on the page', (await page.textContent('#done-username')) === username);
  const firstSignIn = await graphql('mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { challengeId } }', { u: username, p: 'Hajimete-2026!' });
  check('the new account signs in with the password set on the page', Boolean(firstSignIn.data?.signIn?.challengeId));

  // The same link a second time is refused, with a message on the page.
  await page.goto('about:blank');
  await page.goto(link);
  await page.click('#send-code');
  await page.waitForFunction(() => document.getElementById('message').classList.contains('error'), null, { timeout: 15000 });
  check('a used set-up link is refused on the page, pointing to the service desk',
    await page.isHidden('#step-finish') && (await page.textContent('#message')).includes('service desk'));

  // /reset: the username (in capitals, which are the same account), the security answer, a
  // new password.
  await page.goto(`${base}/reset`);
  check('the reset page speaks Japanese and English', (await page.textContent('h1')).includes('パスワードの再設定') && (await page.textContent('h1')).includes('Reset your password'));
  await page.fill('#username', username.toUpperCase());
  await page.click('#ask');
  await waitShown(page, '#step-answer');
  check('the reset page asks the question chosen at set-up', (await page.textContent('#question')) === question);
  await page.fill('#answer', 'wrong answer');
  await page.fill('#password', 'Atarashii-2026!');
  await page.fill('#password2', 'Atarashii-2026!');
  await page.click('#change-password');
  await page.waitForFunction(() => document.getElementById('message').classList.contains('error'), null, { timeout: 15000 });
  check('a wrong answer is refused on the page', await page.isHidden('#done'));
  await page.fill('#answer', ' tama ');
  await page.click('#change-password');
  await waitShown(page, '#done');
  check('the password is reset on the page', true);
  const old = await graphql('mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { challengeId } }', { u: username, p: 'Hajimete-2026!' });
  const fresh = await graphql('mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { challengeId } }', { u: username, p: 'Atarashii-2026!' });
  check('the new password works and the old one does not', Boolean(fresh.data?.signIn?.challengeId) && !old.data?.signIn);
  check('no script errors and no requests to other hosts', pageErrors.length === 0 || (console.log(pageErrors), false));
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (error) {
  check(error.message, false);
} finally {
  await browser.close();
}
console.log(`account pages: ${failures() === 0 ? 'all checks passed' : `${failures()} failed`}`);
process.exit(failures() === 0 ? 0 : 1);
