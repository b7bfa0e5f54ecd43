// The account screen of every role: the password and the authenticator app.
import { el, fill } from '/web/shared/dom.js';
import { app, L, api, notice } from '/web/app/app.js';
import { when } from '/web/app/screens/common.js';

// ---------------------------------------------------------------- アカウント (every role)

export async function accountScreen(root) {
  const { me } = await api('{ me { username displayName email role secondFactor passwordExpiresAt lastSignInAt organization { name } } }');
  const message = el('div', { id: 'account-message', 'aria-live': 'polite' });
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  const method = (m) => (m === 'TOTP' ? L('認証アプリ(TOTP)', 'Authenticator app (TOTP)') : L('メールの認証コード', 'Code by e-mail'));
  const enrolment = el('div', { id: 'totp-enrolment' });
  const startEnrolment = async () => {
    try {
      const { enrollTotp } = await api('mutation { enrollTotp { secret otpauthUrl qrSvg } }');
      const code = el('input', { id: 'totp-code', inputmode: 'numeric', maxlength: 6, autocomplete: 'one-time-code' });
      const qr = el('img', { id: 'totp-qr', alt: L('認証アプリで読み取る QR コード', 'QR code for your authenticator app'), width: 200, height: 200 });
      qr.src = `data:image/svg+xml;base64,${btoa(enrollTotp.qrSvg)}`;
      const confirm = el('form', { id: 'totp-confirm', novalidate: true },
        el('p', {}, L('認証アプリで QR コードを読み取るか、次のキーを入力し、表示された6桁のコードで確認してください。', 'Scan the QR code with your authenticator app, or type the key, then confirm with the 6-digit code it shows.')),
        qr,
        el('p', {}, `${L('キー', 'Key')}: `, el('code', { id: 'totp-secret' }, enrollTotp.secret)),
        el('label', {}, el('span', {}, L('6桁のコード', '6-digit code')), code),
        el('button', { type: 'submit' }, L('確認して切り替える', 'Confirm and switch')));
      confirm.addEventListener('submit', async (event) => {
        event.preventDefault();
        try {
          await api('mutation($c: String!) { confirmTotp(code: $c) { secondFactor } }', { c: code.value.trim() });
          fill(enrolment);
          fill(message, el('p', { id: 'totp-done', class: 'banner ok', role: 'status' }, L('次回から認証アプリのコードでサインインします。', 'From now on you sign in with your authenticator app.')));
          root.querySelector('#second-factor-method').textContent = method('TOTP');
        } catch (failure) { fail(failure); }
      });
      fill(enrolment, confirm);
      code.focus();
    } catch (failure) { fail(failure); }
  };
  const current = el('input', { id: 'account-current', type: 'password', autocomplete: 'current-password' });
  const fresh = el('input', { id: 'account-new', type: 'password', autocomplete: 'new-password' });
  const password = el('form', { id: 'account-password', class: 'card', novalidate: true },
    el('h3', {}, L('パスワードの変更', 'Change your password')),
    el('div', { class: 'form-grid' },
      el('label', {}, el('span', {}, L('現在のパスワード', 'Current password')), current),
      el('label', {}, el('span', {}, L('新しいパスワード', 'New password')), fresh)),
    el('button', { type: 'submit' }, L('変更する', 'Change')));
  password.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }', { c: current.value, n: fresh.value });
      password.reset();
      fill(message, notice(L('パスワードを変更しました。', 'Your password is changed.')));
    } catch (failure) { fail(failure); }
  });
  root.append(el('h2', {}, L('アカウント', 'Account')),
    el('dl', { class: 'facts' },
      el('dt', {}, L('ユーザー名', 'Username')), el('dd', {}, me.username),
      el('dt', {}, L('氏名', 'Name')), el('dd', {}, me.displayName),
      el('dt', {}, L('所属', 'Organisation')), el('dd', {}, me.organization?.name ?? ''),
      el('dt', {}, L('メール', 'E-mail')), el('dd', {}, me.email),
      el('dt', {}, L('二要素認証', 'Second factor')), el('dd', { id: 'second-factor-method' }, method(me.secondFactor)),
      el('dt', {}, L('パスワードの有効期限', 'Password expires')), el('dd', {}, when(me.passwordExpiresAt))),
    message,
    el('section', { class: 'card' }, el('h3', {}, L('認証アプリ(TOTP)の登録', 'Authenticator app (TOTP)')),
      el('p', { class: 'muted' }, L('メールの認証コードの代わりに、スマートフォンの認証アプリのコードでサインインできます。', 'Sign in with your phone\'s authenticator app instead of a code by e-mail.')),
      el('button', { id: 'totp-start', type: 'button', class: 'secondary', onclick: startEnrolment }, L('認証アプリを登録する', 'Set up an authenticator app')),
      enrolment),
    password);
  return null;
}
