// The clinic's vaccination report with its desired quantity, and its stock (pp. 23, 42).
import { el, fill } from '/web/shared/dom.js';
import { app, L, api, notice } from '/web/app/app.js';
import { number, table, coolPicker, STOCK_SEGMENTS } from '/web/app/screens/common.js';
import { stackedBars } from '/web/shared/chart.js';

// ---------------------------------------------------------------- 接種実績・希望量の報告 (pp. 23, 42)

const CATEGORIES = {
  HEALTHCARE_WORKER: ['医療従事者等', 'Healthcare workers'], ELDERLY: ['高齢者', 'Aged 65+'],
  UNDERLYING_CONDITION: ['基礎疾患を有する者', 'Underlying conditions'], GENERAL: ['一般', 'General'], CHILD: ['小児', 'Children'],
};
const DOSES = [1, 2, 3];
const FACILITY_REPORTS = `query($f: ID!) { node(id: $f) { ... on Facility { vaccinesHandled
  vaccinationReports { productCode administered wasted wasteReason figures { doseNumber category administered } }
  stock { productCode delivered administered wasted transferredIn transferredOut onHand recentUsage } } } }`;

export async function reportScreen(root) {
  root.append(el('h2', {}, L('接種実績・希望量の報告', 'Vaccinations and desired quantity')),
    el('p', { class: 'muted' }, L('接種回数(累計)を回数・接種対象者ごとに入力し、次のクールの希望量(箱数)と一緒に報告します。前回と同じ値や前回より少ない値は、確認してから登録します(pp. 23, 42)。', 'Enter cumulative doses per dose and group, with your desired boxes for the cool, on one form. Unchanged or lower figures are registered after you confirm them (pp. 23, 42).')));
  const facilityId = app.user.organization.id;
  const message = el('div', { id: 'report-message', 'aria-live': 'polite' });
  const stock = el('div', { id: 'stock-body' });
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  let cool = null;
  let facility = null;
  const product = el('select', { id: 'report-product' });
  const cells = new Map();
  const grid = el('table', { class: 'grid', id: 'report-grid' },
    el('caption', {}, L('接種回数(累計)', 'Doses given (cumulative)')),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, L('接種対象者', 'Group')), ...DOSES.map((d) => el('th', { scope: 'col' }, L(`${d}回目`, `Dose ${d}`))))),
    el('tbody', {}, ...Object.entries(CATEGORIES).map(([category, names]) => el('tr', {},
      el('th', { scope: 'row' }, L(...names)),
      ...DOSES.map((dose) => {
        const input = el('input', { type: 'number', min: 0, class: 'figure', 'data-dose': dose, 'data-category': category, 'aria-label': `${L(...names)} ${L(`${dose}回目`, `dose ${dose}`)}` });
        cells.set(`${dose}/${category}`, input);
        return el('td', {}, input);
      })))));
  const wasted = el('input', { id: 'report-wasted', type: 'number', min: 0 });
  const wasteReason = el('input', { id: 'report-waste-reason', maxlength: 200 });
  const desired = el('input', { id: 'report-desired', type: 'number', min: 0 });
  const confirmBox = el('div', { id: 'report-confirm', class: 'banner warn', role: 'alertdialog', hidden: true });

  const lastReport = () => facility?.vaccinationReports.find((r) => r.productCode === product.value);
  const prefill = () => {
    const last = lastReport();
    for (const [key, input] of cells) {
      const [dose, category] = key.split('/');
      const figure = last?.figures.find((f) => String(f.doseNumber) === dose && f.category === category);
      input.value = figure ? String(figure.administered) : '';
    }
    wasted.value = last ? String(last.wasted) : '';
    wasteReason.value = last?.wasteReason ?? '';
  };
  const loadFacility = async () => {
    ({ node: facility } = await api(FACILITY_REPORTS, { f: facilityId }));
    const rows = facility.stock.map((s) => el('tr', { 'data-product': s.productCode },
      el('th', { scope: 'row' }, s.productCode), el('td', { class: 'num' }, number(s.delivered)), el('td', { class: 'num' }, number(s.administered)),
      el('td', { class: 'num' }, number(s.wasted)), el('td', { class: 'num' }, number(s.transferredIn - s.transferredOut)), el('td', { class: 'num on-hand' }, number(s.onHand))));
    fill(stock, rows.length
      ? [table(L('在庫(回数)= 納入 − 接種 − 廃棄 ± 譲渡', 'Stock on hand (doses) = delivered − given − wasted ± transfers'),
        [L('品目', 'Product'), L('納入', 'Delivered'), L('接種', 'Given'), L('廃棄', 'Wasted'), L('譲渡', 'Transfers'), L('在庫', 'On hand')], rows, { id: 'stock' }),
      // What came in (delivered and received from others), split by where it went.
      stackedBars(facility.stock.map((s) => ({
        label: s.productCode,
        values: { given: s.administered, wasted: s.wasted, moved: s.transferredOut, stock: s.onHand },
      })), STOCK_SEGMENTS(), L('受け入れた回数の内訳(納入+譲受)', 'Where the doses received went (delivered + transferred in)'), { id: 'stock-chart' })]
      : null);
  };

  const submit = async ({ confirmUnchanged = false, correction = false } = {}) => {
    confirmBox.hidden = true;
    const figures = [...cells].filter(([, input]) => input.value !== '').map(([key, input]) => {
      const [dose, category] = key.split('/');
      return { doseNumber: Number(dose), category, administered: Number(input.value) };
    });
    if (!figures.length) { fail(new Error(L('接種回数を1つ以上入力してください。', 'Enter at least one figure.'))); return; }
    try {
      await api('mutation($i: VaccinationReportInput!) { reportVaccinations(input: $i) { administered } }', { i: {
        facilityId, productCode: product.value, figures,
        wasted: wasted.value === '' ? null : Number(wasted.value), wasteReason: wasteReason.value.trim() || null,
        confirmUnchanged, correction,
      } });
      if (desired.value !== '' && cool) {
        await api('mutation($c: ID!, $f: ID!, $b: Int!) { registerDesiredQuantity(coolId: $c, facilityId: $f, boxes: $b) { boxes } }', { c: cool.id, f: facilityId, b: Number(desired.value) });
      }
      await loadFacility();
      fill(message, el('p', { id: 'reported', class: 'banner ok', role: 'status' }, L('報告を登録しました。', 'Your report is registered.')));
    } catch (failure) {
      const reason = failure.errors?.[0]?.extensions?.reason;
      // The original asked before registering an unchanged or a lower figure; so does this.
      if (reason === 'UNCHANGED_NEEDS_CONFIRMATION' || reason === 'LOWER_THAN_BEFORE') {
        const unchanged = reason === 'UNCHANGED_NEEDS_CONFIRMATION';
        fill(confirmBox,
          el('p', {}, unchanged
            ? L('前回の報告と同じ値です。変更なしとして登録しますか?', 'These figures are the same as last time. Register them unchanged?')
            : L('前回の報告より少ない値があります。訂正として登録しますか?(監査記録に残ります)', 'Some figures are lower than last time. Register them as a correction? (It is audited.)')),
          el('button', { id: 'report-confirm-yes', type: 'button', onclick: () => submit({ confirmUnchanged: confirmUnchanged || unchanged, correction: correction || !unchanged }) },
            unchanged ? L('変更なしで登録', 'Register unchanged') : L('訂正として登録', 'Register the correction')),
          el('button', { type: 'button', class: 'secondary', onclick: () => { confirmBox.hidden = true; } }, L('入力に戻る', 'Back to the form')));
        confirmBox.hidden = false;
        fill(message);
        return;
      }
      fail(failure);
    }
  };

  const form = el('form', { id: 'report-form', class: 'card', novalidate: true },
    el('label', { class: 'inline' }, el('span', {}, L('ワクチン', 'Vaccine')), product),
    grid,
    el('div', { class: 'form-grid' },
      el('label', {}, el('span', {}, L('廃棄回数(累計)', 'Doses wasted (cumulative)')), wasted),
      el('label', {}, el('span', {}, L('廃棄の理由', 'Why wasted')), wasteReason),
      el('label', {}, el('span', { id: 'desired-label' }, L('希望量(箱)', 'Desired boxes')), desired)),
    el('button', { id: 'report-submit', type: 'submit' }, L('報告する', 'Report')));
  form.addEventListener('submit', (event) => { event.preventDefault(); submit(); });
  product.addEventListener('change', prefill);

  await loadFacility();
  const vaccines = facility.vaccinesHandled.length ? facility.vaccinesHandled : ['PFIZER'];
  fill(product, ...vaccines.map((code) => el('option', { value: code }, code)));
  await coolPicker(root, async (picked) => {
    cool = picked;
    root.querySelector('#desired-label')?.replaceChildren(L(`第${picked.number}クールの希望量(箱)`, `Desired boxes for cool ${picked.number}`));
  });
  root.append(form, confirmBox, message, stock);
  root.querySelector('#desired-label').textContent = L(`第${cool?.number ?? ''}クールの希望量(箱)`, `Desired boxes for cool ${cool?.number ?? ''}`);
  prefill();
  return null;
}
