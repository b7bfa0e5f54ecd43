// The set-up (/setup) and password-reset (/reset) pages: plain forms over the public GraphQL
// API, served by vsys itself, loading nothing from elsewhere.
'use strict';

const OPERATIONS = {
  securityQuestions: 'query SecurityQuestions { securityQuestions }',
  requestFirstLoginCode:
    'mutation RequestFirstLoginCode($t: String!) { requestFirstLoginCode(setupToken: $t) { expiresAt } }',
  completeFirstLogin:
    'mutation CompleteFirstLogin($t: String!, $c: String!, $p: String!, $q: String!, $a: String!) ' +
    '{ completeFirstLogin(setupToken: $t, code: $c, newPassword: $p, securityQuestion: $q, securityAnswer: $a) ' +
    '{ token user { username } } }',
  signOut: 'mutation SignOut { signOut }',
  requestPasswordReset:
    'mutation RequestPasswordReset($u: String!) { requestPasswordReset(username: $u) { resetToken securityQuestion } }',
  resetPassword:
    'mutation ResetPassword($t: String!, $a: String!, $p: String!) ' +
    '{ resetPasswordWithSecurityAnswer(resetToken: $t, answer: $a, newPassword: $p) }',
};

// What each error code means to the person at the form (the server's own message, already in
// both languages, is shown for invalid input).
const MESSAGES = {
  UNAUTHENTICATED: 'コード、リンクまたは答えが正しくないか、期限切れです。\nThe code, link or answer is not valid, or has expired.',
  RATE_LIMITED: '試行回数が多すぎます。しばらくしてからやり直してください。\nToo many attempts: wait a minute and try again.',
  NETWORK: 'サーバーに接続できません。\nThe server cannot be reached.',
  INTERNAL: 'サーバーでエラーが発生しました。ヘルプデスクに連絡してください。\nThe server failed; contact the service desk.',
};

async function graphql(operation, variables, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let body;
  try {
    const response = await fetch('/graphql', {
      method: 'POST', headers, body: JSON.stringify({ query: OPERATIONS[operation], variables }),
    });
    body = await response.json();
  } catch {
    throw new Error(MESSAGES.NETWORK);
  }
  if (body.errors && body.errors.length) {
    const error = body.errors[0];
    const code = error.extensions && error.extensions.code;
    const message = code === 'INVALID_INPUT' || code === 'CONFLICT' || code === 'FORBIDDEN'
      ? error.message
      : MESSAGES[code] || MESSAGES.INTERNAL;
    const failure = new Error(message);
    failure.code = code;
    failure.field = error.extensions && error.extensions.field;
    throw failure;
  }
  return body.data;
}

const $ = (id) => document.getElementById(id);

function say(text, kind) {
  const box = $('message');
  box.textContent = text;
  box.className = `message ${kind || ''}`;
}

/** Runs a form step: disables its button, shows the error (and focuses the field at fault). */
async function step(button, work) {
  button.disabled = true;
  say('');
  try {
    await work();
  } catch (error) {
    say(error.message, 'error');
    const fields = { newPassword: 'password', securityAnswer: 'answer', code: 'code', username: 'username' };
    const input = error.field && $(fields[error.field] || error.field);
    if (input) input.focus();
  } finally {
    button.disabled = false;
  }
}

function passwordsMatch() {
  if ($('password').value !== $('password2').value) {
    $('password2').focus();
    throw new Error('確認用のパスワードが一致しません。\nThe two passwords differ.');
  }
}

function setupPage() {
  // The token travels in the fragment, which browsers never send to a server; take it, then
  // remove it from the address bar and the history.
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  let token = fragment.get('token') || '';
  if (window.location.hash) history.replaceState(null, '', window.location.pathname);
  // A link opened again in this tab changes only the fragment: start over with its token.
  window.addEventListener('hashchange', () => window.location.reload());
  if (!token) $('step-token').hidden = false;
  const currentToken = () => token || $('token').value.trim();

  graphql('securityQuestions', {}).then((data) => {
    for (const question of data.securityQuestions) {
      const option = document.createElement('option');
      option.value = question;
      option.textContent = question;
      $('question').append(option);
    }
  }).catch((error) => say(error.message, 'error'));

  $('send-code').addEventListener('click', () => step($('send-code'), async () => {
    if (!currentToken()) {
      $('token').focus();
      throw new Error('トークンを入力してください。\nEnter the set-up token.');
    }
    await graphql('requestFirstLoginCode', { t: currentToken() }).catch((error) => {
      if (error.code !== 'UNAUTHENTICATED') throw error;
      throw new Error('この招待リンクは無効か、期限切れか、使用済みです。ヘルプデスクに再発行を依頼してください。\n' +
        'This invitation link is invalid, expired or already used: ask the service desk for a new one.');
    });
    $('step-finish').hidden = false;
    say('認証コードをメールで送りました（10分間有効）。\nA code was e-mailed to you (valid 10 minutes).', 'ok');
    $('code').focus();
  }));

  $('step-finish').addEventListener('submit', (event) => {
    event.preventDefault();
    step($('finish'), async () => {
      passwordsMatch();
      const data = await graphql('completeFirstLogin', {
        t: currentToken(), c: $('code').value.trim(), p: $('password').value,
        q: $('question').value, a: $('answer').value,
      });
      const session = data.completeFirstLogin;
      // This page only sets the account up: the session it was given ends here.
      await graphql('signOut', {}, session.token).catch(() => {});
      token = '';
      for (const id of ['step-token', 'step-code', 'step-finish']) $(id).hidden = true;
      $('step-finish').reset();
      $('done-username').textContent = session.user.username;
      $('done').hidden = false;
      say('');
    });
  });
}

function resetPage() {
  let resetToken = '';
  $('step-user').addEventListener('submit', (event) => {
    event.preventDefault();
    step($('ask'), async () => {
      const data = await graphql('requestPasswordReset', { u: $('username').value });
      resetToken = data.requestPasswordReset.resetToken;
      $('question').textContent = data.requestPasswordReset.securityQuestion;
      $('step-user').hidden = true;
      $('step-answer').hidden = false;
      $('answer').focus();
    });
  });
  $('step-answer').addEventListener('submit', (event) => {
    event.preventDefault();
    step($('change-password'), async () => {
      passwordsMatch();
      await graphql('resetPassword', { t: resetToken, a: $('answer').value, p: $('password').value });
      resetToken = '';
      $('step-answer').reset();
      $('step-answer').hidden = true;
      $('done').hidden = false;
    });
  });
}

if (document.body.dataset.page === 'setup') setupPage();
if (document.body.dataset.page === 'reset') resetPage();
