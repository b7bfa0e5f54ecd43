// What the browser tests share: checks that count failures, the GraphQL client, the mail
// folder the server writes (.eml files, for sign-in codes and links), and the browser.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const DEMO_PASSWORD = 'Vsys-Demo-2021';
export const CODE = /認証コードは (\d{6}) です/;

/** `check(name, condition)` prints ok/FAIL; `failures()` counts the FAILs. */
export function checks() {
  let failed = 0;
  const check = (name, condition) => {
    console.log(`${condition ? 'ok  ' : 'FAIL'} ${name}`);
    if (!condition) failed += 1;
  };
  return { check, failures: () => failed };
}

/** A GraphQL-over-HTTP client of the server at `base`: resolves to the whole response. */
export function client(base) {
  return async function graphql(query, variables = {}, token) {
    const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${base}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return response.json();
  };
}

/** A client that resolves to `data` and throws on any error (for set-up steps that must work). */
export function strict(graphql) {
  return async function data(query, variables, token) {
    const answer = await graphql(query, variables, token);
    if (answer.errors) throw new Error(`${query.slice(0, 70)}…: ${JSON.stringify(answer.errors)}`);
    return answer.data;
  };
}

/** The day `offset` days from today in Japan, YYYY-MM-DD. */
export function dayInJapan(offset) {
  return new Date(Date.now() + 9 * 3600 * 1000 + offset * 86400 * 1000).toISOString().slice(0, 10);
}

/** Where screenshots go (created): $ARTEFACTS or target/artefacts. */
export function artefactsDir() {
  const dir = process.env.ARTEFACTS ?? 'target/artefacts';
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Decodes the text body of an .eml file written by lettre (quoted-printable or base64). */
function parseMail(raw) {
  const split = raw.indexOf('\r\n\r\n') >= 0 ? raw.indexOf('\r\n\r\n') : raw.indexOf('\n\n');
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(split).trim();
  const header = (name) => (head.match(new RegExp(`^${name}:\\s*(.*)$`, 'im')) || [])[1] || '';
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  let text;
  if (encoding === 'base64') {
    text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  } else if (encoding === 'quoted-printable') {
    const bytes = [];
    const soft = body.replace(/=\r?\n/g, '');
    for (let i = 0; i < soft.length; i += 1) {
      if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
        bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(soft[i], 'utf8'));
      }
    }
    text = Buffer.from(bytes).toString('utf8');
  } else {
    text = body;
  }
  return { to: header('To'), text };
}

/** The mail files there now: a later wait for a mail skips them. */
export function mailsNow(mailDir) {
  try { return new Set(readdirSync(mailDir)); } catch { return new Set(); }
}

/**
 * The newest mail to `address` in `mailDir` whose text matches `pattern`, among those written
 * after `since`: a time (ms), or the set of files there before (`mailsNow`), which is exact.
 */
export async function waitForMail(mailDir, address, since, pattern) {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    let files = [];
    try {
      files = readdirSync(mailDir).filter((f) => f.endsWith('.eml'))
        .filter((f) => !(since instanceof Set) || !since.has(f))
        .map((f) => ({ path: join(mailDir, f), mtime: statSync(join(mailDir, f)).mtimeMs }))
        .filter((f) => since instanceof Set || f.mtime >= since)
        .sort((a, b) => b.mtime - a.mtime);
    } catch { /* the folder appears with the first mail */ }
    for (const file of files) {
      const mail = parseMail(readFileSync(file.path, 'utf8'));
      const match = mail.to.includes(address) && mail.text.match(pattern);
      if (match) return match;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no mail to ${address} matching ${pattern} in ${mailDir}`);
}

/** Signs a demo user in with the code mailed to it; resolves to the session token. */
export async function signIn(graphql, mailDir, username, password = DEMO_PASSWORD) {
  const since = mailsNow(mailDir);
  const step = await graphql('mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { challengeId } }', { u: username, p: password });
  const challenge = step.data?.signIn?.challengeId;
  if (!challenge) throw new Error(`signIn ${username}: ${JSON.stringify(step)}`);
  const [, code] = await waitForMail(mailDir, `${username}@demo.vsys.invalid`, since, CODE);
  const verified = await graphql('mutation($c: String!, $k: String!) { verifySecondFactor(challengeId: $c, code: $k) { token } }', { c: challenge, k: code });
  return verified.data.verifySecondFactor.token;
}

/** Headless Chromium from the system (no browser download). */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
