// The work screens (/app): sign-in with the second factor, what must be done first (the
// privacy policy, an expired password), the idle sign-out with its warning, and the shell that
// shows each role its screens (screens.js). Only the public GraphQL API is used.
import { graphql, LiveSocket } from '/web/shared/live.js';
import { el } from '/web/shared/dom.js';
import { SCREENS } from '/web/app/screens.js';

const $ = (id) => document.getElementById(id);

/** The shared state of the page: language, session, live socket, idle timer. */
export const app = {
  lang: (() => {
    const asked = new URLSearchParams(location.search).get('lang');
    if (asked === 'en' || asked === 'ja') return asked;
    try { return localStorage.getItem('vsys.lang') === 'en' ? 'en' : 'ja'; } catch { return 'ja'; }
  })(),
  token: null,
  user: null,
  socket: null,
  idleMinutes: 15,
  lastActivity: Date.now(),
  screenStop: null,
};

/** Japanese or English, as the user chose. */
export const L = (ja, en) => (app.lang === 'en' ? en : ja);

/** A GraphQL call as the signed-in user; a session that ended sends the user to sign in. */
export async function api(query, variables = {}) {
  try {
    return await graphql(query, variables, app.token);
  } catch (error) {
    if (error.code === 'UNAUTHENTICATED' && app.token) {
      endSession(L('セッションが終了しました。もう一度サインインしてください。', 'Your session ended. Please sign in again.'));
    }
    throw error;
  }
}

/** A message in the page's status area (role=status, or role=alert for errors). */
export function notice(text, kind = 'info') {
  return el('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

function showLive(state) {
  const node = $('live');
  node.hidden = false;
  node.dataset.state = state;
  node.className = `live live-${state === 'live' ? 'on' : state === 'connecting' ? 'connecting' : 'offline'}`;
  node.textContent = state === 'live' ? L('ライブ', 'Live') : state === 'connecting' ? L('接続中', 'Connecting') : L('再接続中', 'Reconnecting');
}

// ---------------------------------------------------------------- sign-in

function signInForm(message) {
  const username = el('input', { id: 'username', autocomplete: 'username', required: true });
  const password = el('input', { id: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = el('p', { id: 'sign-in-error', class: 'error', role: 'alert', hidden: true });
  const form = el('form', { id: 'sign-in', class: 'card narrow', novalidate: true },
    el('h2', {}, L('サインイン', 'Sign in')),
    message ? notice(message) : null,
    el('label', {}, el('span', {}, L('ユーザー名', 'Username')), username),
    el('label', {}, el('span', {}, L('パスワード', 'Password')), password),
    el('button', { type: 'submit' }, L('次へ', 'Next')),
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      const { signIn } = await graphql('mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { challengeId method expiresAt } }', { u: username.value.trim(), p: password.value });
      render(codeForm(signIn));
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  return form;
}

function codeForm(challenge) {
  const code = el('input', { id: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6, required: true });
  const error = el('p', { id: 'code-error', class: 'error', role: 'alert', hidden: true });
  const hint = challenge.method === 'TOTP'
    ? L('認証アプリに表示されている6桁のコードを入力してください。', 'Enter the 6-digit code your authenticator app shows.')
    : L('登録されたメールアドレスに6桁の認証コードを送りました。', 'We sent a 6-digit code to your registered e-mail address.');
  const form = el('form', { id: 'second-factor', class: 'card narrow', novalidate: true },
    el('h2', {}, L('認証コード', 'Verification code')),
    el('p', {}, hint),
    el('label', {}, el('span', {}, L('6桁のコード', '6-digit code')), code),
    el('button', { type: 'submit' }, L('サインイン', 'Sign in')),
    el('button', { type: 'button', class: 'secondary', onclick: () => render(signInForm()) }, L('戻る', 'Back')),
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      const { verifySecondFactor } = await graphql(
        `mutation($c: String!, $k: String!) { verifySecondFactor(challengeId: $c, code: $k) { token expiresAt obligations user { ${USER} } } }`,
        { c: challenge.challengeId, k: code.value.trim() },
      );
      startSession(verifySecondFactor.token, verifySecondFactor.user, verifySecondFactor.obligations);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  setTimeout(() => code.focus(), 0);
  return form;
}

const USER = 'id username displayName role organization { id name code kind } privacyPolicyAccepted';

// ---------------------------------------------------------------- what must be done first

async function obligationsScreen(obligations) {
  if (obligations.includes('PASSWORD_EXPIRED')) return passwordForm(obligations);
  if (obligations.includes('PRIVACY_POLICY_NOT_ACCEPTED')) return policyForm(obligations);
  return null;
}

function passwordForm(obligations) {
  const current = el('input', { id: 'current-password', type: 'password', autocomplete: 'current-password' });
  const fresh = el('input', { id: 'new-password', type: 'password', autocomplete: 'new-password' });
  const error = el('p', { class: 'error', role: 'alert', hidden: true });
  const form = el('form', { id: 'password-change', class: 'card narrow', novalidate: true },
    el('h2', {}, L('パスワードの有効期限が切れました', 'Your password has expired')),
    el('p', {}, L('新しいパスワードを設定してください(8文字以上、英大文字・英小文字・数字・記号のうち3種類)。', 'Choose a new password (8 characters or more, with 3 of: upper case, lower case, digits, symbols).')),
    el('label', {}, el('span', {}, L('現在のパスワード', 'Current password')), current),
    el('label', {}, el('span', {}, L('新しいパスワード', 'New password')), fresh),
    el('button', { type: 'submit' }, L('変更する', 'Change')), error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }', { c: current.value, n: fresh.value });
      continueAfter(obligations.filter((o) => o !== 'PASSWORD_EXPIRED'));
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  return form;
}

async function policyForm(obligations) {
  const { privacyPolicy } = await api('query($l: PolicyLanguage) { privacyPolicy(language: $l) { version text } }', { l: app.lang === 'en' ? 'EN' : 'JA' }).catch(() => ({ privacyPolicy: null }));
  const error = el('p', { class: 'error', role: 'alert', hidden: true });
  return el('section', { id: 'privacy-policy', class: 'card' },
    el('h2', {}, L('個人情報の取扱いについて', 'Personal information policy')),
    el('p', { class: 'muted' }, `${L('版', 'Version')}: ${privacyPolicy?.version ?? '-'}`),
    el('div', { class: 'policy-text', tabindex: 0 }, privacyPolicy?.text ?? ''),
    el('button', {
      id: 'accept-policy',
      type: 'button',
      onclick: async () => {
        try {
          await api('mutation { acceptPrivacyPolicy { id } }');
          continueAfter(obligations.filter((o) => o !== 'PRIVACY_POLICY_NOT_ACCEPTED'));
        } catch (failure) {
          error.textContent = failure.message;
          error.hidden = false;
        }
      },
    }, L('同意して続ける', 'Accept and continue')),
    error);
}

async function continueAfter(obligations) {
  const screen = await obligationsScreen(obligations);
  if (screen) render(screen);
  else showShell();
}

// ---------------------------------------------------------------- session and idle sign-out

function startSession(token, user, obligations) {
  app.token = token;
  app.user = user;
  app.lastActivity = Date.now();
  try { sessionStorage.setItem('vsys.token', token); } catch { /* private mode */ }
  $('sign-out').hidden = false;
  continueAfter(obligations);
}

function endSession(message) {
  app.screenStop?.();
  app.screenStop = null;
  app.socket?.close();
  app.socket = null;
  app.token = null;
  app.user = null;
  try { sessionStorage.removeItem('vsys.token'); } catch { /* private mode */ }
  $('sign-out').hidden = true;
  $('live').hidden = true;
  $('nav').hidden = true;
  $('who').textContent = '';
  $('idle').textContent = '';
  $('idle-warning').hidden = true;
  render(signInForm(message));
}

async function signOut(message) {
  const token = app.token;
  if (token) await graphql('mutation { signOut }', {}, token).catch(() => {});
  endSession(message);
}

/** The seconds before the idle sign-out; a warning shows for the last two minutes. */
function tickIdle() {
  if (!app.token) return;
  const left = Math.round((app.lastActivity + app.idleMinutes * 60000 - Date.now()) / 1000);
  if (left <= 0) {
    signOut(L('15分間操作がなかったため、サインアウトしました。', 'You were signed out after 15 minutes without activity.').replace('15', String(app.idleMinutes)));
    return;
  }
  const warning = $('idle-warning');
  if (left <= 120) {
    $('idle-title').textContent = L('まもなくサインアウトします', 'You will be signed out soon');
    $('idle-text').textContent = L(`操作がないため、あと${left}秒でサインアウトします。`, `Without activity you will be signed out in ${left} seconds.`);
    $('idle-continue').textContent = L('作業を続ける', 'Stay signed in');
    if (warning.hidden) { warning.hidden = false; $('idle-continue').focus(); }
  } else {
    warning.hidden = true;
  }
  $('idle').textContent = L(`自動サインアウトまで ${Math.ceil(left / 60)}分`, `Auto sign-out in ${Math.ceil(left / 60)} min`);
}

function activity() {
  if (!$('idle-warning').hidden) return; // only the button keeps a warned session
  app.lastActivity = Date.now();
}

// ---------------------------------------------------------------- shell and screens

const ROLES = {
  NATION: ['国', 'Nation'], PREFECTURE: ['都道府県', 'Prefecture'], MUNICIPALITY: ['市区町村', 'Municipality'],
  MEDICAL_INSTITUTION: ['医療機関', 'Medical institution'], AGGREGATOR: ['取りまとめ団体', 'Aggregator'],
  MEDICAL_ASSOCIATION: ['医師会', 'Medical association'], MANUFACTURER: ['製造販売業者', 'Manufacturer'],
  WHOLESALER: ['卸売業者', 'Wholesaler'], DRY_ICE_SUPPLIER: ['ドライアイス供給業者', 'Dry-ice supplier'],
  SUPPLY_WAREHOUSE: ['針・シリンジ倉庫', 'Needle and syringe warehouse'], RESERVATION_OPERATOR: ['予約受付', 'Booking operator'],
  SYSTEM_ADMIN: ['システム管理者', 'System administrator'],
};
const roleName = (role) => (ROLES[role] ? L(...ROLES[role]) : role);

function screensFor(role) {
  return SCREENS.filter((s) => s.roles.includes(role));
}

function showShell() {
  const { user } = app;
  // Opened once the obligations are met: the server decides a socket's rights when it opens.
  app.socket ??= new LiveSocket({ token: app.token, onState: showLive, onReconnect: () => app.onReconnect?.() });
  $('who').textContent = `${user.organization?.name ?? ''} ${user.displayName} (${roleName(user.role)})`;
  const screens = screensFor(user.role);
  const nav = $('nav');
  nav.replaceChildren(...screens.map((s) => el('a', { href: `#${s.id}`, id: `nav-${s.id}` }, s.title())));
  nav.hidden = screens.length === 0;
  route();
}

async function route() {
  if (!app.user) return;
  const screens = screensFor(app.user.role);
  const wanted = location.hash.slice(1);
  const screen = screens.find((s) => s.id === wanted) ?? screens[0];
  for (const link of $('nav').children) {
    if (link.id === `nav-${screen?.id}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  app.screenStop?.();
  app.screenStop = null;
  app.onReconnect = null;
  if (!screen) {
    render(el('section', { class: 'card' }, el('p', {}, L('この役割の業務画面は準備中です。GraphQL プレイグラウンド(/)をご利用ください。', 'This role has no screens yet; use the GraphQL playground (/).'))));
    return;
  }
  const root = el('section', { id: `screen-${screen.id}`, class: 'screen' });
  render(el('div', {}, helpFor(screen), root));
  document.title = `${screen.title()} | V-SYS`;
  try {
    app.screenStop = (await screen.mount(root)) ?? null;
  } catch (failure) {
    root.append(notice(failure.message, 'error'));
  } finally {
    // The screen has read what it shows (or failed to): tests and assistive tools can rely on it.
    root.dataset.mounted = 'yes';
  }
}

/** "Help for this page": the knowledge base's articles for this screen and role. */
function helpFor(screen) {
  const panel = el('details', { id: 'page-help', class: 'help' }, el('summary', {}, L('この画面のヘルプ', 'Help for this page')));
  panel.addEventListener('toggle', async () => {
    if (!panel.open || panel.dataset.loaded) return;
    panel.dataset.loaded = 'yes';
    try {
      const { pageHelp } = await api('query($k: String!) { pageHelp(pageKey: $k) { id titleJa titleEn bodyJa bodyEn } }', { k: `app.${screen.id}` });
      panel.append(...(pageHelp.length
        ? pageHelp.map((a) => el('article', {}, el('h3', {}, L(a.titleJa, a.titleEn)), el('p', { class: 'help-body' }, L(a.bodyJa, a.bodyEn))))
        : [el('p', { class: 'muted' }, L('この画面のヘルプはまだありません。マニュアル・FAQ はサービスデスクが登録します。', 'No help for this page yet; the service desk writes the manuals and FAQ.'))]));
    } catch (failure) {
      panel.append(notice(failure.message, 'error'));
    }
  });
  return panel;
}

function render(node) {
  $('main').replaceChildren(node);
}

function applyLanguage() {
  document.documentElement.lang = app.lang;
  $('title').textContent = L('V-SYS 業務画面', 'V-SYS work screens');
  $('lang').textContent = app.lang === 'ja' ? 'English' : '日本語';
  $('lang').lang = app.lang === 'ja' ? 'en' : 'ja';
  $('sign-out').textContent = L('サインアウト', 'Sign out');
  if (app.user) showShell();
  else if (!$('main').firstChild || $('main').querySelector('#sign-in')) render(signInForm());
}

$('lang').addEventListener('click', () => {
  app.lang = app.lang === 'ja' ? 'en' : 'ja';
  try { localStorage.setItem('vsys.lang', app.lang); } catch { /* private mode */ }
  applyLanguage();
});
$('sign-out').addEventListener('click', () => signOut(L('サインアウトしました。', 'You are signed out.')));
$('idle-continue').addEventListener('click', async () => {
  // A request is what keeps the server's session alive.
  await api('{ me { id } }').catch(() => {});
  app.lastActivity = Date.now();
  $('idle-warning').hidden = true;
});
for (const kind of ['keydown', 'pointerdown', 'wheel']) document.addEventListener(kind, activity, { passive: true });
window.addEventListener('hashchange', route);
setInterval(tickIdle, 1000);
window.vsysApp = app;

fetch('/app/config.json').then((r) => r.json()).then((config) => { app.idleMinutes = config.sessionIdleMinutes ?? 15; }).catch(() => {});
applyLanguage();

// A reload keeps the session of this tab (sessionStorage), as long as the server still has it.
(async () => {
  let token = null;
  try { token = sessionStorage.getItem('vsys.token'); } catch { /* private mode */ }
  if (!token) return;
  try {
    const { me } = await graphql(`{ me { ${USER} } }`, {}, token);
    if (me) startSession(token, me, me.privacyPolicyAccepted || me.organization?.kind !== 'FACILITY' ? [] : ['PRIVACY_POLICY_NOT_ACCEPTED']);
  } catch { /* signed out meanwhile */ }
})();
