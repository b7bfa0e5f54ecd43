// Residents: the municipality's queue of requests, and questionnaires (documents).
import { el, fill } from '/web/shared/dom.js';
import { upload } from '/web/shared/live.js';
import { app, L, api, notice } from '/web/app/app.js';
import { when, table, serialized } from '/web/app/screens/common.js';

// ---------------------------------------------------------------- 住民からの届出・依頼 (municipality)

const REQUESTS = `query($s: ResidentRequestStatus) { residentRequests(status: $s) { id reference kind status name nameKana birthDate
  phone couponNumber couponMunicipality { name } reason submittedByFacility { name } createdAt decidedAt decisionReason newCouponNumber } }`;

export async function residentRequestsScreen(root) {
  root.append(el('h2', {}, L('住民からの届出・依頼', 'Residents\' requests')),
    el('p', { class: 'muted' }, L('住所地外接種の届出と接種券の再発行依頼を確認し、受理・承認または返戻します。新しい届出はリアルタイムで届きます。', 'Out-of-area notifications and coupon reissue requests: accept or approve, or return with a reason. New requests arrive live.')));
  const body = el('div', { id: 'requests-body' });
  const message = el('div', { id: 'requests-message', 'aria-live': 'polite' });
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  const load = serialized(async () => {
    const { residentRequests } = await api(REQUESTS, { s: 'SUBMITTED' });
    const decide = (r, yes) => async () => {
      const why = body.querySelector(`[data-request="${r.id}"] input.reason`).value.trim();
      if (!yes && !why) { fail(new Error(L('返戻の理由を入力してください。', 'Say why it is returned.'))); return; }
      try {
        if (r.kind === 'OUT_OF_AREA') {
          await api('mutation($r: ID!, $a: Boolean!, $why: String) { decideOutOfAreaNotification(requestId: $r, accept: $a, reason: $why) { status } }', { r: r.id, a: yes, why: why || null });
        } else {
          await api('mutation($r: ID!, $a: Boolean!, $why: String) { decideCouponReissue(requestId: $r, approve: $a, reason: $why) { status newCouponNumber } }', { r: r.id, a: yes, why: why || null });
        }
        await load();
        fill(message, notice(yes ? L(`${r.reference} を受理しました。`, `${r.reference} accepted.`) : L(`${r.reference} を返戻しました。`, `${r.reference} returned.`)));
      } catch (failure) { fail(failure); }
    };
    fill(body, residentRequests.length
      ? table(L('未処理の届出・依頼', 'Waiting requests'),
        [L('受付番号', 'Reference'), L('種類', 'Kind'), L('氏名', 'Name'), L('生年月日', 'Born'), L('電話', 'Phone'), L('接種券', 'Coupon'), L('理由', 'Reason'), L('受付', 'Received'), ''],
        residentRequests.map((r) => el('tr', { 'data-request': r.id, 'data-reference': r.reference },
          el('th', { scope: 'row' }, r.reference),
          el('td', {}, r.kind === 'OUT_OF_AREA' ? L('住所地外接種', 'Out of area') : L('接種券再発行', 'Coupon reissue')),
          el('td', {}, `${r.name}(${r.nameKana})`), el('td', {}, r.birthDate), el('td', {}, r.phone),
          el('td', {}, `${r.couponMunicipality?.name ?? ''} ${r.couponNumber}`), el('td', {}, r.reason),
          el('td', {}, when(r.createdAt) + (r.submittedByFacility ? ` (${r.submittedByFacility.name})` : '')),
          el('td', {},
            el('button', { type: 'button', class: 'accept', onclick: decide(r, true) }, L('受理', 'Accept')),
            el('input', { class: 'reason', maxlength: 500, 'aria-label': L('返戻の理由', 'Why it is returned'), placeholder: L('返戻の理由', 'Why returned') }),
            el('button', { type: 'button', class: 'secondary return', onclick: decide(r, false) }, L('返戻', 'Return'))))),
        { id: 'requests' })
      : notice(L('未処理の届出・依頼はありません。', 'Nothing waits.')));
  });
  root.append(message, body);
  // Follow first, then read: whatever changes after the read is heard.
  const stop = app.socket.subscribe('subscription { residentRequests { sequence } }', {}, { next: () => load() });
  await load();
  app.onReconnect = load;
  return stop;
}

// ---------------------------------------------------------------- 予診票 (questionnaires, documents)

const JOBS = `{ documentJobs { id status progressDone progressTotal error createdAt finishedAt
  files { fileName part pages byteSize downloadUrl downloadExpiresAt } } questionnaireImports { fileName imported createdAt } }`;
const JOB_STATUS = {
  QUEUED: ['待機中', 'Queued'], RUNNING: ['作成中', 'Running'], SUCCEEDED: ['完了', 'Done'], FAILED: ['失敗', 'Failed'],
};

export async function questionnairesScreen(root) {
  root.append(el('h2', {}, L('予診票の作成', 'Pre-screening questionnaires')),
    el('p', { class: 'muted' }, L('対象者の一覧(CSV: 氏名, 氏名カナ, 生年月日, 性別, 都道府県, 市区町村, 医療従事者等区分, 勤務先)を取り込み、未印刷の予診票をまとめて作成します。作成はバックグラウンドで進み、完了するとダウンロードできます。', 'Import the list of people (CSV: name, kana, birth date, sex, prefecture, municipality, worker category, workplace), then print the questionnaires not printed yet. Printing runs in the background; download when it is done.')));
  const message = el('div', { id: 'documents-message', 'aria-live': 'polite' });
  const jobs = el('div', { id: 'jobs-body' });
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  const file = el('input', { id: 'recipients-file', type: 'file', accept: '.csv,text/csv' });
  const importForm = el('form', { id: 'import-form', class: 'card', novalidate: true },
    el('h3', {}, L('対象者の取込み', 'Import people')),
    el('label', {}, el('span', {}, L('CSV ファイル(UTF-8 または Shift_JIS、1,000人まで)', 'CSV file (UTF-8 or Shift_JIS, up to 1,000 people)')), file),
    el('button', { type: 'submit' }, L('取り込む', 'Import')));
  importForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!file.files[0]) { fail(new Error(L('ファイルを選んでください。', 'Choose a file.'))); return; }
    try {
      const { importQuestionnaireRecipients: done } = await upload('mutation($file: Upload!) { importQuestionnaireRecipients(file: $file) { imported skippedEmptyRows } }', {}, 'file', file.files[0], app.token);
      fill(message, el('p', { id: 'imported', class: 'banner ok', role: 'status' }, L(`${done.imported}人を取り込みました。`, `${done.imported} people imported.`)));
      importForm.reset();
      await load();
    } catch (failure) { fail(failure); }
  });
  const dose = el('select', { id: 'questionnaire-dose' }, ...[1, 2, 3].map((d) => el('option', { value: d }, L(`${d}回目`, `Dose ${d}`))));
  const generate = el('form', { id: 'generate-form', class: 'card', novalidate: true },
    el('h3', {}, L('予診票の作成', 'Print')),
    el('label', { class: 'inline' }, el('span', {}, L('接種回', 'Dose')), dose),
    el('button', { type: 'submit' }, L('未印刷の予診票を作成', 'Print those not printed yet')));
  generate.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('mutation($d: Int!) { generateQuestionnaires(dose: $d) { id } }', { d: Number(dose.value) });
      fill(message, notice(L('作成を受け付けました。進み具合は下の一覧に表示されます。', 'Queued: the list below shows the progress.')));
      await load();
    } catch (failure) { fail(failure); }
  });
  const load = serialized(async () => {
    const { documentJobs, questionnaireImports } = await api(JOBS);
    const label = (status) => (JOB_STATUS[status] ? L(...JOB_STATUS[status]) : status);
    fill(jobs,
      documentJobs.length
        ? table(L('作成の状況', 'Print jobs'), [L('受付', 'Queued at'), L('状態', 'Status'), L('進み具合', 'Progress'), L('ファイル', 'Files')],
          documentJobs.map((j) => el('tr', { 'data-job': j.id, 'data-status': j.status },
            el('td', {}, when(j.createdAt)), el('td', { class: 'status' }, label(j.status), j.error ? el('span', { class: 'error' }, ` ${j.error}`) : null),
            el('td', {}, el('meter', { min: 0, max: j.progressTotal ?? 1, value: j.progressDone, 'aria-label': L('進み具合', 'Progress') }), ` ${j.progressDone} / ${j.progressTotal ?? '?'}`),
            el('td', {}, ...j.files.map((f) => el('a', { class: 'download', href: f.downloadUrl, download: f.fileName }, `${f.fileName}(${f.pages}${L('ページ', ' pages')})`))))),
          { id: 'jobs' })
        : notice(L('作成の履歴はありません。', 'Nothing printed yet.')),
      questionnaireImports.length
        ? el('p', { class: 'muted' }, L(`取込み: ${questionnaireImports.length}回、合計${questionnaireImports.reduce((n, i) => n + i.imported, 0)}人`, `Imports: ${questionnaireImports.length}, ${questionnaireImports.reduce((n, i) => n + i.imported, 0)} people`))
        : null);
  });
  root.append(importForm, generate, message, jobs);
  // Follow first, then read: whatever changes after the read is heard.
  const stop = app.socket.subscribe('subscription { documentJobs { jobId } }', {}, { next: () => load() });
  await load();
  app.onReconnect = load;
  return stop;
}
