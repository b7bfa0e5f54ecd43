// The allocation cycle's screens: the nation's board, what was received and its confirmation,
// the prefecture's check and data lock, and allocation with the simulation (pp. 22–37).
import { el, fill } from '/web/shared/dom.js';
import { app, L, api, notice } from '/web/app/app.js';
import { STATUS, CHECK, ALLOCATION_EVENTS, STOCK_SEGMENTS, when, number, table, coolPicker, eventLog, chips, lockBanner, EXCLUSIONS, serialized, followCoolAllocation } from '/web/app/screens/common.js';
import { stackedBars } from '/web/shared/chart.js';

// ---------------------------------------------------------------- 全国の進捗 (nation)

const BOARD = `query($c: ID!) { allocationBoard(coolId: $c) { prefecture { id name } receivedBoxes receivedDoses confirmedAt
  allocatedBoxes completedAt lockedAt municipalitiesReceiving municipalitiesCompleted deliveredDoses administeredDoses
  wastedDoses stockOnHandDoses lateStages } }`;
const STAGES = {
  DESIRED_QUANTITY: ['希望量', 'Desired quantity'], NATION_ALLOCATION: ['国→都道府県', 'Nation to prefectures'],
  PREFECTURE_ALLOCATION: ['都道府県→市区町村', 'Prefectures to municipalities'],
  MUNICIPALITY_ALLOCATION: ['市区町村→医療機関', 'Municipalities to facilities'], DATA_LOCK: ['データロック', 'Data lock'],
};
const stageName = (stage) => (STAGES[stage] ? L(...STAGES[stage]) : stage);

export async function boardScreen(root) {
  root.append(el('h2', {}, L('全国の配分進捗', 'National allocation board')),
    el('p', { class: 'muted' }, L('クールごとに、都道府県の受領・確認・配分・ロックと、納入・接種・廃棄・在庫を一覧します。期限を過ぎた段階は強調表示されます。', 'Per prefecture: received, confirmed, allocated down, locked, and the vaccine delivered, administered, wasted and on hand. Stages past their deadline are highlighted.')));
  const body = el('div', { id: 'board-body' });
  let cool = null;
  let timer = null;
  const load = serialized(async () => {
    if (!cool) return; // no cool opened yet: the picker says so
    const { allocationBoard: rows } = await api(BOARD, { c: cool.id });
    const given = rows.filter((r) => r.receivedBoxes > 0);
    const delivered = rows.filter((r) => r.deliveredDoses > 0);
    const share = (count, ja, en, id) => el('li', {},
      el('span', { class: 'bar-label' }, L(ja, en)),
      el('meter', { id, min: 0, max: Math.max(given.length, 1), value: count }),
      el('span', { class: 'bar-value' }, `${count} / ${given.length}`));
    const tick = (at) => (at ? el('span', { class: 'ok', title: when(at) }, '✔') : el('span', { class: 'muted' }, '—'));
    fill(body,
      el('section', { class: 'card' }, el('h3', {}, L('段階ごとの進捗(配分を受けた都道府県)', 'Progress per stage (prefectures given vaccine)')),
        el('ol', { class: 'bars' },
          share(given.filter((r) => r.confirmedAt).length, '確認済', 'Confirmed', 'progress-confirmed'),
          share(given.filter((r) => r.completedAt).length, '分配作業完了', 'Allocated down', 'progress-completed'),
          share(given.filter((r) => r.lockedAt).length, 'データロック', 'Locked', 'progress-locked'))),
      table(L('都道府県別', 'Per prefecture'),
        [L('都道府県', 'Prefecture'), L('受領(箱/回)', 'Received (boxes/doses)'), L('確認', 'Confirmed'), L('配分(箱)', 'Allocated (boxes)'),
          L('市区町村完了', 'Municipalities done'), L('完了', 'Complete'), L('ロック', 'Locked'), L('納入(回)', 'Delivered'),
          L('接種(回)', 'Administered'), L('廃棄(回)', 'Wasted'), L('在庫(回)', 'On hand'), L('遅れ', 'Late')],
        rows.map((r) => el('tr', { class: r.lateStages.length ? 'late' : '', 'data-prefecture': r.prefecture?.name ?? '' },
          el('th', { scope: 'row' }, r.prefecture?.name ?? ''),
          el('td', { class: 'num' }, `${number(r.receivedBoxes)} / ${number(r.receivedDoses)}`),
          el('td', { class: 'confirmed' }, tick(r.confirmedAt)),
          el('td', { class: 'num' }, number(r.allocatedBoxes)),
          el('td', { class: 'num' }, `${r.municipalitiesCompleted} / ${r.municipalitiesReceiving}`),
          el('td', { class: 'completed' }, tick(r.completedAt)),
          el('td', { class: 'locked' }, tick(r.lockedAt)),
          el('td', { class: 'num delivered' }, number(r.deliveredDoses)),
          el('td', { class: 'num' }, number(r.administeredDoses)),
          el('td', { class: 'num' }, number(r.wastedDoses)),
          el('td', { class: 'num' }, number(r.stockOnHandDoses)),
          el('td', { class: 'late-stages' }, r.lateStages.map(stageName).join('、')))),
        { id: 'board' }),
      // The stock: what each prefecture's facilities were delivered, split by where it went.
      delivered.length
        ? stackedBars(delivered.map((r) => ({
          label: r.prefecture?.name ?? '',
          values: { given: r.administeredDoses, wasted: r.wastedDoses, stock: r.stockOnHandDoses },
        })), STOCK_SEGMENTS().filter((s) => s.key !== 'moved'), L('納入された回数の内訳(都道府県別)', 'Doses delivered per prefecture, by where they went'), { id: 'stock-chart' })
        : null);
  });
  const openForm = el('form', { id: 'open-cool', class: 'card', novalidate: true },
    el('h3', {}, L('クールを開く', 'Open a cool')),
    el('div', { class: 'form-grid' },
      el('label', {}, el('span', {}, L('クール番号', 'Number')), el('input', { id: 'cool-number', type: 'number', min: 1 })),
      el('label', {}, el('span', {}, L('ワクチン(製品コード)', 'Vaccine (product code)')), el('input', { id: 'cool-product', value: 'PFIZER' })),
      el('label', {}, el('span', {}, L('開始日', 'Starts on')), el('input', { id: 'cool-starts', type: 'date' }))),
    el('button', { type: 'submit' }, L('開く', 'Open')),
    el('div', { id: 'open-cool-message', 'aria-live': 'polite' }));
  openForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (id) => openForm.querySelector(`#${id}`).value;
    try {
      const { openCool } = await api('mutation($i: OpenCoolInput!) { openCool(input: $i) { number startsOn endsOn } }',
        { i: { number: Number(value('cool-number')), productCode: value('cool-product').trim(), startsOn: value('cool-starts') } });
      fill(openForm.querySelector('#open-cool-message'), notice(L(`第${openCool.number}クール(${openCool.startsOn}〜${openCool.endsOn})を開きました。再表示すると選べます。`, `Cool ${openCool.number} (${openCool.startsOn} to ${openCool.endsOn}) is open; reload to pick it.`)));
    } catch (failure) { fill(openForm.querySelector('#open-cool-message'), notice(failure.message, 'error')); }
  });
  let stop = null;
  await coolPicker(root, async (picked) => {
    cool = picked;
    stop?.();
    if (root.contains(body)) await load();
    stop = app.socket.subscribe(ALLOCATION_EVENTS, { c: cool.id }, {
      // A burst of events (a proposal to 47 prefectures) makes one reload.
      next: () => { clearTimeout(timer); timer = setTimeout(load, 300); },
    });
    app.onReconnect = load;
  });
  root.append(body, openForm);
  if (cool) await load();
  return () => { stop?.(); clearTimeout(timer); };
}

// ---------------------------------------------------------------- 配分量の確認 (municipality, prefecture)

export async function receivedScreen(root) {
  root.append(el('h2', {}, L('配分量の確認', 'Allocation received')),
    el('p', { class: 'muted' }, L('上位の団体から配分された量を確認し、確認済にします(p. 22–37)。データロックはリアルタイムで届きます。', 'Check what you received and confirm it (pp. 22–37). The data lock arrives live.')));
  const body = el('div', { id: 'received-body' });
  const log = eventLog();
  const load = serialized(async (cool) => {
    const { allocationStatus: status } = await api(STATUS, { c: cool.id });
    const confirm = !status.confirmedAt && status.received.length && !status.locked
      ? el('button', {
        id: 'confirm',
        type: 'button',
        onclick: async (event) => {
          event.target.disabled = true;
          try { await api('mutation($c: ID!) { confirmAllocation(coolId: $c) { confirmedAt } }', { c: cool.id }); await load(cool); } catch (failure) { body.append(notice(failure.message, 'error')); event.target.disabled = false; }
        },
      }, L('確認済にする', 'Confirm'))
      : null;
    fill(body, 
      lockBanner(status.locked),
      chips(status),
      status.received.length
        ? table(L('受領した配分量', 'Received'), [L('品目', 'Product'), L('箱数', 'Boxes'), L('回数', 'Doses')],
          status.received.map((r) => el('tr', {}, el('td', {}, r.product.name), el('td', { class: 'num' }, number(r.boxes)), el('td', { class: 'num' }, number(r.doses)))), { id: 'received' })
        : notice(L('このクールの配分はまだありません。', 'Nothing allocated to you in this cool yet.')),
      confirm,
      status.given.length
        ? table(L('配分した量', 'Given'), [L('配分先', 'Recipient'), L('品目', 'Product'), L('箱数', 'Boxes'), L('回数', 'Doses')],
          status.given.map((g) => el('tr', {}, el('td', {}, g.recipient?.name ?? ''), el('td', {}, g.product.code), el('td', { class: 'num' }, number(g.boxes)), el('td', { class: 'num' }, number(g.doses)))))
        : null);
  });
  const stop = await followCoolAllocation(root, { load, log, body });
  root.append(body, log.section);
  return stop;
}

// ---------------------------------------------------------------- 配分チェック・データロック (prefecture)

export async function checkScreen(root) {
  root.append(el('h2', {}, L('配分チェックとデータロック', 'Allocation check and data lock')),
    el('p', { class: 'muted' }, L('市区町村ごとに、受領量 ≧ 医療機関への配分の合計なら〇、不足ならXです。全市区町村が分配作業を完了し〇のとき、データロックできます(p. 37)。', 'Per municipality: 〇 when received ≥ the sum given to facilities, X when less. The data lock is allowed when every municipality has completed and shows 〇 (p. 37).')));
  const body = el('div', { id: 'check-body' });
  const log = eventLog();
  const load = serialized(async (cool) => {
    const { allocationCheck: check } = await api(CHECK, { c: cool.id });
    const reasons = [];
    if (check.locked) reasons.push(L('データロック済みです。', 'The data lock is on.'));
    if (!check.prefectureCompleted) reasons.push(L('都道府県の分配作業が完了していません。', 'Your own allocation is not complete.'));
    if (check.notCompleted > 0) reasons.push(L(`分配作業が未完了の市区町村: ${check.notCompleted}`, `Municipalities not complete: ${check.notCompleted}`));
    const crosses = check.municipalities.filter((m) => m.mark !== '〇').length;
    if (crosses > 0) reasons.push(L(`Xの市区町村: ${crosses}`, `Municipalities marked X: ${crosses}`));
    const why = check.canLock
      ? el('p', { id: 'lock-why', class: 'banner ok' }, L(`データロックできます: ${check.municipalities.length}市区町村すべてが分配作業を完了し、〇です。`, `The data lock is allowed: all ${check.municipalities.length} municipalities have completed and show 〇.`))
      : el('ul', { id: 'lock-why', class: 'banner warn' }, ...reasons.map((r) => el('li', {}, r)));
    const confirmLock = el('div', { id: 'lock-confirm', hidden: true },
      el('p', {}, L('データロックすると、この都道府県のこのクールの配分は変更できなくなります。ロックしますか?', 'After the data lock nothing in this prefecture\'s allocation of the cool can change. Lock now?')),
      el('button', {
        id: 'lock-yes',
        type: 'button',
        class: 'danger',
        onclick: async () => {
          try { await api('mutation($c: ID!) { lockAllocations(coolId: $c) { locked } }', { c: cool.id }); await load(cool); } catch (failure) { body.append(notice(failure.message, 'error')); }
        },
      }, L('ロックする', 'Lock')),
      el('button', { type: 'button', class: 'secondary', onclick: () => { confirmLock.hidden = true; } }, L('やめる', 'Cancel')));
    fill(body, 
      lockBanner(check.locked),
      table(L('市区町村の配分チェック', 'Municipalities\' check'),
        [L('市区町村', 'Municipality'), L('判定', 'Mark'), L('受領 / 配分 (品目別)', 'Received / given'), L('確認', 'Confirmed'), L('完了', 'Completed')],
        check.municipalities.map((m) => el('tr', { class: m.blocksLock ? 'blocks' : '' },
          el('th', { scope: 'row' }, m.municipality?.name ?? ''),
          el('td', { class: `mark ${m.mark === '〇' ? 'ok' : 'bad'}` }, m.mark),
          el('td', { class: 'products' }, ...m.products.map((p) => el('span', {}, `${p.productCode} ${number(p.received)} / ${number(p.given)}`))),
          el('td', {}, when(m.confirmedAt)),
          el('td', {}, when(m.completedAt)))),
        { id: 'check-table' }),
      why,
      !check.prefectureCompleted && !check.locked
        ? el('button', {
          id: 'complete',
          type: 'button',
          class: 'secondary',
          onclick: async () => {
            try { await api('mutation($c: ID!) { completeAllocation(coolId: $c) { completedAt } }', { c: cool.id }); await load(cool); } catch (failure) { body.append(notice(failure.message, 'error')); }
          },
        }, L('分配作業完了にする', 'Mark allocation complete'))
        : null,
      el('button', { id: 'lock', type: 'button', class: 'danger', disabled: !check.canLock, onclick: () => { confirmLock.hidden = false; } }, L('データロック', 'Data lock')),
      confirmLock);
  });
  const stop = await followCoolAllocation(root, { load, log, body });
  root.append(body, log.section);
  return stop;
}

// ---------------------------------------------------------------- 分配・分配シミュレーション (p. 36)

const WEIGHTINGS = {
  POPULATION: ['人口', 'Population'], DESIRED_QUANTITY: ['希望量', 'Desired quantity'], CAPACITY: ['接種能力', 'Capacity'],
  STOCK_AND_USAGE: ['在庫と使用実績', 'Stock on hand and usage'], EQUAL: ['均等', 'Equal shares'],
};
const PROPOSAL_FIELDS = `children { recipient { id name } weight exclusions overridden amounts { productCode boxes doses } }
  totals { productCode received allocated remaining } warnings { code message }`;
const GIVEN = `query($c: ID!) { allocationStatus(coolId: $c) { confirmedAt completedAt locked
  given { id recipient { id name } product { code name } boxes doses version } } }`;

export async function allocateScreen(root) {
  root.append(el('h2', {}, L('分配(分配シミュレーション)', 'Allocation (simulation)')),
    el('p', { class: 'muted' }, L('重み付けを選んでシミュレーションし、必要なら医療機関・団体ごとの箱数を上書きしてから登録します。端数は最大剰余法で箱単位に配分され、受領量を超えることはありません(p. 36)。', 'Choose a weighting and simulate; override any recipient\'s vaccine boxes; then store the proposal. Whole boxes by the largest remainder, never more than you received (p. 36).')));
  const body = el('div', { id: 'allocate-body' });
  const message = el('div', { id: 'allocate-message', 'aria-live': 'polite' });
  const overrides = new Map();
  let cool = null;
  const weighting = el('select', { id: 'weighting' }, ...Object.entries(WEIGHTINGS).map(([value, names]) => el('option', { value }, L(...names))));
  const adjustment = el('input', { id: 'adjustment', type: 'number', min: 0, max: 100, value: 0 });
  const input = () => ({
    coolId: cool.id, weighting: weighting.value, adjustmentPercent: Number(adjustment.value || 0),
    overrides: [...overrides].map(([recipientId, boxes]) => ({ recipientId, boxes })),
  });
  const fail = (failure) => fill(message, notice(failure.message, 'error'));

  const showProposal = (proposal, stored) => {
    const codes = proposal.totals.map((t) => t.productCode);
    const rows = proposal.children.map((child) => {
      const vaccine = child.amounts[0];
      const override = el('input', {
        type: 'number', min: 0, class: 'override', 'aria-label': `${child.recipient?.name ?? ''} ${L('ワクチン箱数の上書き', 'vaccine boxes override')}`,
        value: overrides.get(child.recipient.id) ?? '', placeholder: String(vaccine?.boxes ?? 0),
      });
      override.addEventListener('change', () => {
        if (override.value === '') overrides.delete(child.recipient.id);
        else overrides.set(child.recipient.id, Number(override.value));
      });
      return el('tr', { 'data-recipient': child.recipient?.name ?? '' },
        el('th', { scope: 'row' }, child.recipient?.name ?? ''),
        el('td', { class: 'num' }, String(child.weight)),
        ...codes.map((code) => {
          const amount = child.amounts.find((a) => a.productCode === code);
          return el('td', { class: 'num' }, amount ? `${number(amount.boxes)} (${number(amount.doses)})` : '0');
        }),
        el('td', {}, override),
        el('td', { class: 'exclusions' }, child.exclusions.map((e) => (EXCLUSIONS[e] ? L(...EXCLUSIONS[e]) : e)).join('、')));
    });
    fill(body,
      stored ? notice(L('配分案を登録しました。下の表で個別に修正し、分配作業完了にしてください。', 'The proposal is stored. Adjust single lines below, then mark the allocation complete.')) : null,
      table(L('配分先ごとの箱数(回数)', 'Boxes (doses) per recipient'),
        [L('配分先', 'Recipient'), L('重み', 'Weight'), ...codes, L('ワクチン箱数の上書き', 'Override'), L('対象外の理由', 'Why excluded')], rows, { id: 'proposal' }),
      table(L('合計', 'Totals'), [L('品目', 'Product'), L('受領', 'Received'), L('配分', 'Allocated'), L('残り', 'Remaining')],
        proposal.totals.map((t) => el('tr', {}, el('th', { scope: 'row' }, t.productCode), el('td', { class: 'num' }, number(t.received)), el('td', { class: 'num' }, number(t.allocated)), el('td', { class: 'num' }, number(t.remaining)))), { id: 'totals' }),
      proposal.warnings.length ? el('ul', { id: 'warnings', class: 'banner warn' }, ...proposal.warnings.map((w) => el('li', { 'data-code': w.code }, w.message))) : null);
  };

  const simulate = async () => {
    try {
      const { simulateAllocation } = await api(`query($i: ProposalInput!) { simulateAllocation(input: $i) { ${PROPOSAL_FIELDS} } }`, { i: input() });
      fill(message);
      showProposal(simulateAllocation, false);
    } catch (failure) { fail(failure); }
  };

  const showGiven = async () => {
    const { allocationStatus: status } = await api(GIVEN, { c: cool.id });
    const lines = el('div', { id: 'given-lines' });
    const rows = status.given.map((line) => {
      const boxes = el('input', { type: 'number', min: 0, value: line.boxes, class: 'line-boxes', 'aria-label': `${line.recipient?.name ?? ''} ${line.product.code}` });
      const save = el('button', {
        type: 'button',
        class: 'secondary save-line',
        disabled: status.locked,
        onclick: async () => {
          try {
            await api('mutation($c: ID!, $r: ID!, $p: String, $b: Int!, $v: Int) { setAllocation(input: { coolId: $c, recipientId: $r, productCode: $p, boxes: $b, expectedVersion: $v }) { version } }',
              { c: cool.id, r: line.recipient.id, p: line.product.code, b: Number(boxes.value), v: line.version });
            const set = boxes.value;
            // The table first, then the message: the message speaks of what the table shows.
            await showGiven();
            fill(message, notice(L(`${line.recipient?.name} の ${line.product.code} を ${set} 箱にしました。`, `${line.recipient?.name}: ${line.product.code} set to ${set} boxes.`)));
          } catch (failure) {
            // CONFLICT: someone else changed it; the current value is shown on reload.
            fail(failure);
            await showGiven();
          }
        },
      }, L('保存', 'Save'));
      return el('tr', { 'data-line': `${line.recipient?.name}/${line.product.code}` },
        el('th', { scope: 'row' }, line.recipient?.name ?? ''), el('td', {}, line.product.code), el('td', {}, boxes),
        el('td', { class: 'num' }, number(line.doses)), el('td', {}, save));
    });
    fill(lines,
      chips(status),
      rows.length ? table(L('登録済みの配分', 'Stored amounts'), [L('配分先', 'Recipient'), L('品目', 'Product'), L('箱数', 'Boxes'), L('回数', 'Doses'), ''], rows, { id: 'given' }) : null,
      rows.length && !status.completedAt && !status.locked
        ? el('button', {
          id: 'complete-allocation',
          type: 'button',
          onclick: async () => {
            try { await api('mutation($c: ID!) { completeAllocation(coolId: $c) { completedAt } }', { c: cool.id }); await showGiven(); } catch (failure) { fail(failure); }
          },
        }, L('分配作業完了', 'Mark allocation complete'))
        : null);
    const shown = root.querySelector('#given-lines');
    if (shown) shown.replaceWith(lines);
    else root.append(lines);
  };

  const controls = el('form', { id: 'allocate-form', class: 'card', novalidate: true },
    el('div', { class: 'form-grid' },
      el('label', {}, el('span', {}, L('重み付け', 'Weighting')), weighting),
      app.user.role !== 'MUNICIPALITY' ? el('label', {}, el('span', {}, L('調整枠(%)', 'Adjustment share (%)')), adjustment) : null),
    el('button', { id: 'simulate', type: 'submit' }, L('シミュレーション', 'Simulate')),
    el('button', {
      id: 'propose',
      type: 'button',
      class: 'secondary',
      onclick: async () => {
        try {
          const { proposeAllocations } = await api(`mutation($i: ProposalInput!) { proposeAllocations(input: $i) { ${PROPOSAL_FIELDS} } }`, { i: input() });
          showProposal(proposeAllocations, true);
          await showGiven();
        } catch (failure) { fail(failure); }
      },
    }, L('この配分案で登録', 'Store this proposal')));
  controls.addEventListener('submit', (event) => { event.preventDefault(); simulate(); });
  await coolPicker(root, async (picked) => {
    cool = picked;
    overrides.clear();
    if (root.contains(body)) { fill(body); await showGiven(); }
  });
  // No cool opened yet: the picker says so, and there is nothing to allocate.
  if (!cool) return null;
  root.append(controls, message, body);
  await showGiven();
  return null;
}
