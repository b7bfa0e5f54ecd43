// The registry's screens: the municipality's approval queue (p. 27), its special venues with
// their doctors (p. 28), and the prefecture's list of its municipalities.
import { el, fill } from '/web/shared/dom.js';
import { app, L, api, notice } from '/web/app/app.js';
import { when, number, table, EXCLUSIONS, serialized, eventLog, followCoolAllocation } from '/web/app/screens/common.js';
import { barList, seriesChart } from '/web/shared/chart.js';

// ---------------------------------------------------------------- 承認待ち (municipality, p. 27)

const PENDING = `{ facilityChangeRequests(filter: { status: PENDING }, first: 50) { edges { node {
  id version requestedAt facility { name code } proxyOrganization { name } changes { field before after } } } } }`;

/** A changed value as people read it: text as is, yes/no, the rest as compact JSON. */
function shown(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? L('はい', 'Yes') : L('いいえ', 'No');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const FIELDS = {
  name: ['名称', 'Name'], nameKana: ['名称(カナ)', 'Name in kana'], nameRomaji: ['名称(ローマ字)', 'Name in Latin letters'],
  postalCode: ['郵便番号', 'Postal code'], address: ['住所', 'Address'], phone: ['電話番号', 'Phone'],
  weeklyCapacity: ['週あたり接種能力', 'Weekly capacity'], medicalInstitutionCode: ['医療機関コード', 'Medical-institution code'],
  representativeName: ['代表者', 'Representative'], vaccinesHandled: ['取扱ワクチン', 'Vaccines handled'],
  supplyType: ['供給形態', 'Supply type'], basicFacilityId: ['基本型施設', 'Basic-type facility'],
  generalAcceptance: ['一般の方の受入', 'Accepts the general public'], proxyInput: ['代行入力', 'Proxy input'],
  collectiveJoinDate: ['集合契約加入日', 'Joined the collective contract'], collectiveWithdrawalDate: ['集合契約脱退日', 'Left the collective contract'],
};
const fieldName = (field) => (FIELDS[field] ? L(...FIELDS[field]) : field);

export async function approvalsScreen(root) {
  root.append(el('h2', {}, L('医療機関情報の変更承認', 'Facility changes to approve')),
    el('p', { class: 'muted' }, L('医療機関が申請した変更を、変更前と変更後を並べて確認し、承認または差戻しします(p. 27)。新しい申請はリアルタイムで届きます。', 'Check each change requested by a facility, before and after side by side, then approve or return it (p. 27). New requests arrive live.')));
  const body = el('div', { id: 'approvals-body' });
  const message = el('div', { id: 'approvals-message', 'aria-live': 'polite' });
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  const load = serialized(async () => {
    const { facilityChangeRequests } = await api(PENDING);
    const cards = facilityChangeRequests.edges.map(({ node: r }) => {
      const reason = el('input', { class: 'reject-reason', maxlength: 500, 'aria-label': L('差戻しの理由', 'Why it is returned') });
      return el('article', { class: 'card request', 'data-facility': r.facility?.name ?? '' },
        el('h3', {}, `${r.facility?.name ?? ''}(${r.facility?.code ?? ''})`),
        el('p', { class: 'muted' }, `${L('申請', 'Requested')}: ${when(r.requestedAt)}${r.proxyOrganization ? ` ・ ${L('代行', 'by')} ${r.proxyOrganization.name}` : ''}`),
        table(L('変更内容', 'Changes'), [L('項目', 'Field'), L('変更前', 'Before'), L('変更後', 'After')],
          r.changes.map((c) => el('tr', { 'data-field': c.field }, el('th', { scope: 'row' }, fieldName(c.field)), el('td', { class: 'before' }, shown(c.before)), el('td', { class: 'after' }, shown(c.after))))),
        el('div', { class: 'actions' },
          el('button', {
            type: 'button',
            class: 'approve',
            onclick: async () => {
              try {
                await api('mutation($r: ID!, $v: Int) { approveFacilityChange(requestId: $r, expectedVersion: $v) { status } }', { r: r.id, v: r.version });
                await load();
                fill(message, notice(L(`${r.facility?.name} の変更を承認しました。`, `Approved the change of ${r.facility?.name}.`)));
              } catch (failure) { fail(failure); await load(); }
            },
          }, L('承認', 'Approve')),
          el('label', { class: 'inline' }, el('span', {}, L('差戻しの理由', 'Why it is returned')), reason),
          el('button', {
            type: 'button',
            class: 'secondary reject',
            onclick: async () => {
              if (!reason.value.trim()) { fail(new Error(L('差戻しの理由を入力してください。', 'Say why it is returned.'))); reason.focus(); return; }
              try {
                await api('mutation($r: ID!, $why: String!, $v: Int) { rejectFacilityChange(requestId: $r, reason: $why, expectedVersion: $v) { status } }', { r: r.id, why: reason.value.trim(), v: r.version });
                await load();
                fill(message, notice(L(`${r.facility?.name} の変更を差し戻しました。`, `Returned the change of ${r.facility?.name}.`)));
              } catch (failure) { fail(failure); await load(); }
            },
          }, L('差戻し', 'Return'))));
    });
    fill(body, cards.length ? cards : notice(L('承認待ちの変更はありません。', 'Nothing waits for approval.')));
  });
  root.append(message, body);
  // Follow first, then read: whatever changes after the read is heard.
  const stop = app.socket.subscribe('subscription { facilityChangeRequests { id status } }', {}, { next: () => load() });
  await load();
  app.onReconnect = load;
  return stop;
}

// ---------------------------------------------------------------- 特設会場・医師の登録 (municipality, p. 28)

const VENUES = `query($m: String!) { facilities(municipalityCode: $m, facilityType: SPECIAL_VENUE, first: 100) { edges { node {
  id code name address reservationMode eligibility { eligible reasons } doctors { id name licenceNumber roles active } } } } }`;
// The eligibility reasons are the proposal's exclusions (the same names).
const REASONS = EXCLUSIONS;

export async function venuesScreen(root) {
  const municipality = app.user.organization;
  root.append(el('h2', {}, L('特設会場と医師の登録', 'Special venues and their doctors')),
    el('p', { class: 'muted' }, L('市区町村が運営する特設会場を登録し、責任医師・接種医師を登録します。同じ医師が両方を兼ねる場合は両方を選びます(p. 28)。医師がそろうまで配分の対象外です。', 'Register the special venues your municipality runs, and their responsible and vaccinating doctors; one doctor may hold both roles (p. 28). A venue gets no allocation until its doctors are registered.')));
  const message = el('div', { id: 'venues-message', 'aria-live': 'polite' });
  const list = el('div', { id: 'venues-body' });
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  const reasonName = (r) => (REASONS[r] ? L(...REASONS[r]) : r);
  const load = serialized(async () => {
    const { facilities } = await api(VENUES, { m: municipality.code });
    fill(list, ...facilities.edges.map(({ node: v }) => {
      const name = el('input', { class: 'doctor-name', maxlength: 100, 'aria-label': L('医師の氏名', 'Doctor\'s name') });
      const licence = el('input', { class: 'doctor-licence', inputmode: 'numeric', maxlength: 6, 'aria-label': L('医籍登録番号', 'Medical register number') });
      const role = (value, ja, en) => el('label', { class: 'check' }, el('input', { type: 'checkbox', class: 'doctor-role', value }), L(ja, en));
      const card = el('article', { class: 'card venue', 'data-venue': v.name },
        el('h3', {}, `${v.name}(${v.code})`), el('p', { class: 'muted' }, v.address ?? ''),
        el('p', { class: `eligibility ${v.eligibility.eligible ? 'ok' : 'warn'}` }, v.eligibility.eligible
          ? L('配分の対象です。', 'Eligible for allocation.')
          : `${L('配分の対象外', 'Not eligible')}: ${v.eligibility.reasons.map(reasonName).join('、')}`),
        v.doctors.length
          ? el('ul', { class: 'doctors' }, ...v.doctors.filter((d) => d.active).map((d) => el('li', {}, `${d.name}(${d.licenceNumber}) ${d.roles.map((r) => (r === 'RESPONSIBLE' ? L('責任医師', 'responsible') : L('接種医師', 'vaccinating'))).join('・')}`)))
          : null,
        el('form', { class: 'doctor-form', novalidate: true },
          el('div', { class: 'form-grid' },
            el('label', {}, el('span', {}, L('医師の氏名', 'Doctor\'s name')), name),
            el('label', {}, el('span', {}, L('医籍登録番号', 'Medical register number')), licence)),
          el('fieldset', {}, el('legend', {}, L('役割', 'Roles')), role('RESPONSIBLE', '責任医師', 'Responsible'), role('VACCINATING', '接種医師', 'Vaccinating')),
          el('button', { type: 'submit' }, L('医師を登録', 'Register the doctor'))));
      card.querySelector('form').addEventListener('submit', async (event) => {
        event.preventDefault();
        const roles = [...card.querySelectorAll('input.doctor-role:checked')].map((c) => c.value);
        try {
          await api('mutation($f: ID!, $n: String!, $l: String!, $r: [DoctorRole!]!) { registerDoctor(facilityId: $f, name: $n, licenceNumber: $l, roles: $r) { id } }',
            { f: v.id, n: name.value.trim(), l: licence.value.trim(), r: roles });
          await load();
          fill(message, notice(L(`${v.name} に医師を登録しました。`, `Doctor registered at ${v.name}.`)));
        } catch (failure) { fail(failure); }
      });
      return card;
    }));
  });
  const field = (id, ja, en, props = {}) => el('label', {}, el('span', {}, L(ja, en)), el('input', { id, ...props }));
  const form = el('form', { id: 'venue-form', class: 'card', novalidate: true },
    el('h3', {}, L('特設会場の登録', 'Register a special venue')),
    el('div', { class: 'form-grid' },
      field('venue-code', '医療機関コード(10桁)', 'Code (10 digits)', { inputmode: 'numeric', maxlength: 10 }),
      field('venue-name', '名称', 'Name', { maxlength: 100 }),
      field('venue-romaji', '名称(ローマ字)', 'Name in Latin letters', { maxlength: 100 }),
      field('venue-address', '住所', 'Address', { maxlength: 200 }),
      field('venue-latitude', '緯度', 'Latitude', { type: 'number', step: 'any' }),
      field('venue-longitude', '経度', 'Longitude', { type: 'number', step: 'any' }),
      field('venue-phone', '電話番号', 'Phone', { maxlength: 20 })),
    el('button', { type: 'submit' }, L('登録', 'Register')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (id) => form.querySelector(`#${id}`).value.trim();
    try {
      await api('mutation($i: RegisterSpecialVenueInput!) { registerSpecialVenue(input: $i) { id } }', { i: {
        code: value('venue-code'), name: value('venue-name'), nameRomaji: value('venue-romaji') || null, address: value('venue-address'),
        latitude: Number(value('venue-latitude')), longitude: Number(value('venue-longitude')), phone: value('venue-phone') || null,
      } });
      form.reset();
      await load();
      fill(message, notice(L('特設会場を登録しました。', 'The special venue is registered.')));
    } catch (failure) { fail(failure); }
  });
  root.append(form, message, list);
  await load();
  return null;
}

// ---------------------------------------------------------------- 管内の市区町村 (prefecture)

const MUNICIPALITIES = `query($p: String!, $q: String, $after: String) {
  municipalities(prefectureCode: $p, nameContains: $q, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor } nodes { id code name nameKana } } }`;
const COVERAGE = `query($p: String!) {
  vaccinationCoverage(prefectureCode: $p) { areaCode population administered doses { doseNumber percentOfPopulation } }
  vaccinationStatistics(prefectureCode: $p) { days { date daily cumulative } } }`;
const MUNICIPALITY_CHECK = `query($c: ID!) { allocationCheck(coolId: $c) { municipalities {
  municipality { id } mark confirmedAt completedAt products { productCode received given } } } }`;

/**
 * The prefecture's municipalities: who they are, where each stands in the picked cool (the
 * check's 〇/X, confirmation, completion) and how far vaccination has come, with charts of
 * first-dose coverage and of the doses given over time. Follows the cool's allocation events
 * and the prefecture's statistics.
 */
export async function municipalitiesScreen(root) {
  root.append(el('h2', {}, L('管内の市区町村', 'Municipalities of the prefecture')),
    el('p', { class: 'muted' }, L('管内の市区町村ごとに、選んだクールの配分の状況(確認・分配作業完了・〇/X)と接種の進み具合を一覧します。', 'Each municipality of your prefecture: where it stands in the picked cool (confirmed, complete, 〇/X) and how far vaccination has come.')));
  const prefectureCode = app.user.organization.code;
  const search = el('input', { id: 'municipality-search', type: 'search', maxlength: 50, placeholder: L('名称・かな・ローマ字', 'Name, kana or romaji') });
  const body = el('div', { id: 'municipalities-body' });
  const log = eventLog();
  const readAll = async (text) => {
    const found = [];
    let after = null;
    // Hokkaido has the most municipalities (179): two pages at most.
    do {
      const { municipalities: page } = await api(MUNICIPALITIES, { p: prefectureCode, q: text || null, after });
      found.push(...page.nodes);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    return found;
  };
  // The list changes with the filter only; live events re-read the figures, not the list.
  let listed = { text: null, municipalities: [] };
  const listFor = async (text) => {
    if (listed.text !== text) listed = { text, municipalities: await readAll(text) };
    return listed.municipalities;
  };
  const load = serialized(async (cool) => {
    const [municipalities, { vaccinationCoverage, vaccinationStatistics }, check] = await Promise.all([
      listFor(search.value.trim()),
      api(COVERAGE, { p: prefectureCode }),
      cool?.id ? api(MUNICIPALITY_CHECK, { c: cool.id }) : null,
    ]);
    const coverage = new Map(vaccinationCoverage.map((a) => [a.areaCode, a]));
    const checked = new Map((check?.allocationCheck.municipalities ?? []).map((m) => [m.municipality?.id, m]));
    const firstDose = (area) => area?.doses.find((d) => d.doseNumber === 1)?.percentOfPopulation ?? null;
    const tick = (at) => (at ? el('span', { class: 'ok', title: when(at) }, '✔') : el('span', { class: 'muted' }, '—'));
    const rows = municipalities.map((m) => {
      const area = coverage.get(m.code);
      const check = checked.get(m.id);
      const percent = firstDose(area);
      return el('tr', { 'data-municipality': m.name },
        el('td', {}, m.code),
        el('th', { scope: 'row' }, m.name, m.nameKana ? el('small', { class: 'muted kana' }, ` ${m.nameKana}`) : null),
        el('td', { class: 'num' }, area?.population ? number(area.population) : '—'),
        el('td', { class: `mark ${check ? (check.mark === '〇' ? 'ok' : 'bad') : ''}` }, check?.mark ?? '—'),
        el('td', { class: 'products' }, ...(check?.products ?? []).map((p) => el('span', {}, `${p.productCode} ${number(p.received)} / ${number(p.given)}`))),
        el('td', { class: 'confirmed' }, tick(check?.confirmedAt)),
        el('td', { class: 'completed' }, tick(check?.completedAt)),
        el('td', { class: 'num administered' }, number(area?.administered ?? 0)),
        el('td', { class: 'num' }, percent === null ? '—' : `${percent.toFixed(1)}%`));
    });
    const charted = municipalities.filter((m) => firstDose(coverage.get(m.code)) !== null);
    const days = vaccinationStatistics.days;
    fill(body,
      rows.length
        ? table(L(`市区町村(${rows.length})`, `Municipalities (${rows.length})`),
          [L('コード', 'Code'), L('市区町村', 'Municipality'), L('人口', 'Population'), L('判定', 'Mark'), L('受領 / 配分 (品目別)', 'Received / given'),
            L('確認', 'Confirmed'), L('完了', 'Completed'), L('接種回数', 'Doses given'), L('1回目接種率', 'First dose')],
          rows, { id: 'municipalities' })
        : notice(L('該当する市区町村はありません。', 'No municipality matches.')),
      charted.length
        ? el('figure', { class: 'chart', id: 'coverage-chart' },
          el('figcaption', {}, L('1回目の接種率(人口比)', 'First-dose coverage (share of the population)')),
          barList(charted.map((m) => {
            const percent = firstDose(coverage.get(m.code));
            return { label: m.name, value: percent, text: `${percent.toFixed(1)}%` };
          })))
        : null,
      days.length
        ? el('figure', { class: 'chart', id: 'doses-chart' },
          el('figcaption', {}, L('管内の接種回数(累計)', 'Doses given in the prefecture (cumulative)')),
          ...seriesChart(days.map((d) => ({ label: d.date, value: d.cumulative })), 'line', L('接種回数の累計', 'Cumulative doses')))
        : null);
  });
  const stop = await followCoolAllocation(root, { load, log, body });
  const picked = () => ({ id: root.querySelector('#cool')?.value });
  // Reports move the figures: the prefecture's totals are pushed at most once a second.
  const stopStatistics = app.socket.subscribe('subscription($p: String) { statisticsUpdated(prefectureCode: $p) { updatedAt } }', { p: prefectureCode }, {
    next: () => load(picked()),
  });
  // With no cool opened yet there is nothing to follow, but the list still shows.
  if (!root.querySelector('#cool')) await load(picked());
  let searching = null;
  search.addEventListener('input', () => {
    clearTimeout(searching);
    searching = setTimeout(() => load(picked()), 250);
  });
  root.append(el('label', { class: 'inline' }, el('span', {}, L('絞り込み', 'Filter')), search), body, log.section);
  return () => { stop(); stopStatistics(); clearTimeout(searching); };
}
