// The work screens, one per task, named after the seed's screens. Each screen mounts into its
// section, loads through the API, follows its live feed, and returns the function that stops
// the feed when the user leaves.
import { el, fill } from '/web/shared/dom.js';
import { upload } from '/web/shared/live.js';
import { app, L, api, notice } from '/web/app/app.js';

const COOLS = '{ cools { id number startsOn endsOn product { code name } } }';
const STATUS = `query($c: ID!) { allocationStatus(coolId: $c) {
  received { product { code name } boxes doses } given { recipient { name } product { code } boxes doses }
  confirmedAt completedAt locked } }`;
const CHECK = `query($c: ID!) { allocationCheck(coolId: $c) { prefectureCompleted locked canLock notCompleted
  municipalities { municipality { name } mark balanced blocksLock confirmedAt completedAt products { productCode received given } } } }`;
const ALLOCATION_EVENTS = 'subscription($c: ID) { allocationEvents(coolId: $c) { sequence kind organization { name } occurredAt } }';
const DELIVERIES = `query($c: ID!, $f: ID!) { deliveries(coolId: $c, facilityId: $f, first: 50) { edges { node {
  id product { code name } boxes doses status scheduledOn deliveredOn lots { lotNumber boxes } deliverer { name } } } } }`;
const DELIVERY_EVENTS = 'subscription { deliveryEvents { sequence kind deliveryId scheduledOn deliveredOn occurredAt } }';

const KIND = {
  PROPOSED: ['配分案', 'Proposed'], CHANGED: ['変更', 'Changed'], CONFIRMED: ['確認済', 'Confirmed'],
  COMPLETED: ['分配作業完了', 'Completed'], LOCKED: ['データロック', 'Data lock'],
  SCHEDULED: ['納入予定日登録', 'Delivery date set'], DELIVERED: ['納入済', 'Delivered'],
};
const kindLabel = (kind) => (KIND[kind] ? L(...KIND[kind]) : kind);

function when(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(app.lang === 'en' ? 'en-GB' : 'ja-JP', { timeZone: 'Asia/Tokyo', dateStyle: 'medium', timeStyle: 'short' });
}

const number = (n) => Number(n).toLocaleString();

function table(caption, headers, rows, attrs = {}) {
  return el('table', { class: 'grid', ...attrs },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows));
}

/** The cool picker (newest first); calls `onPick(cool)` now and on every change. */
async function coolPicker(root, onPick) {
  const { cools } = await api(COOLS);
  if (!cools.length) {
    root.append(notice(L('まだクールがありません。', 'No cool has been opened yet.')));
    return;
  }
  const select = el('select', { id: 'cool' }, ...cools.map((c) => el('option', { value: c.id },
    `${L('第', 'Cool ')}${c.number}${L('クール', '')} (${c.product?.name ?? ''} ${c.startsOn}〜${c.endsOn})`)));
  root.append(el('label', { class: 'inline' }, el('span', {}, L('クール', 'Cool')), select));
  select.addEventListener('change', () => onPick(cools.find((c) => c.id === select.value)));
  await onPick(cools[0]);
}

/** A list of what the live feed brought, newest first. */
function eventLog() {
  const list = el('ol', { id: 'event-log', class: 'event-log', 'aria-live': 'polite' });
  const section = el('section', { class: 'card' }, el('h3', {}, L('ライブの更新', 'Live updates')), list);
  return {
    section,
    add(kind, who, at) {
      list.prepend(el('li', { 'data-kind': kind }, `${when(at)} ${kindLabel(kind)}${who ? ` — ${who}` : ''}`));
    },
  };
}

function chips(status) {
  const chip = (on, ja, en, id) => el('span', { class: `chip ${on ? 'on' : ''}`, id }, `${on ? '✔ ' : ''}${L(ja, en)}`);
  return el('p', { class: 'chips' },
    chip(Boolean(status.confirmedAt), '確認済', 'Confirmed', 'chip-confirmed'),
    chip(Boolean(status.completedAt), '分配作業完了', 'Allocation complete', 'chip-completed'),
    chip(status.locked, 'データロック', 'Data lock', 'chip-locked'));
}

function lockBanner(locked) {
  return locked
    ? el('p', { id: 'lock-banner', class: 'banner locked', role: 'status' }, L('データロックされました。この配分はもう変更できません。配送業者に引き渡されます。', 'The data lock is on: this allocation can no longer change and goes to the deliverers.'))
    : null;
}

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

async function boardScreen(root) {
  root.append(el('h2', {}, L('全国の配分進捗', 'National allocation board')),
    el('p', { class: 'muted' }, L('クールごとに、都道府県の受領・確認・配分・ロックと、納入・接種・廃棄・在庫を一覧します。期限を過ぎた段階は強調表示されます。', 'Per prefecture: received, confirmed, allocated down, locked, and the vaccine delivered, administered, wasted and on hand. Stages past their deadline are highlighted.')));
  const body = el('div', { id: 'board-body' });
  let cool = null;
  let timer = null;
  const load = async () => {
    const { allocationBoard: rows } = await api(BOARD, { c: cool.id });
    const given = rows.filter((r) => r.receivedBoxes > 0);
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
        { id: 'board' }));
  };
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

async function receivedScreen(root) {
  root.append(el('h2', {}, L('配分量の確認', 'Allocation received')),
    el('p', { class: 'muted' }, L('上位の団体から配分された量を確認し、確認済にします(p. 22–37)。データロックはリアルタイムで届きます。', 'Check what you received and confirm it (pp. 22–37). The data lock arrives live.')));
  const body = el('div', { id: 'received-body' });
  const log = eventLog();
  let stop = null;
  const load = async (cool) => {
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
  };
  await coolPicker(root, async (cool) => {
    stop?.();
    await load(cool);
    stop = app.socket.subscribe(ALLOCATION_EVENTS, { c: cool.id }, {
      next: ({ allocationEvents: e }) => { log.add(e.kind, e.organization?.name, e.occurredAt); load(cool); },
      error: (errors) => body.append(notice(errors?.[0]?.message ?? 'error', 'error')),
    });
    app.onReconnect = () => load(cool);
  });
  root.append(body, log.section);
  return () => stop?.();
}

// ---------------------------------------------------------------- 配分チェック・データロック (prefecture)

async function checkScreen(root) {
  root.append(el('h2', {}, L('配分チェックとデータロック', 'Allocation check and data lock')),
    el('p', { class: 'muted' }, L('市区町村ごとに、受領量 ≧ 医療機関への配分の合計なら〇、不足ならXです。全市区町村が分配作業を完了し〇のとき、データロックできます(p. 37)。', 'Per municipality: 〇 when received ≥ the sum given to facilities, X when less. The data lock is allowed when every municipality has completed and shows 〇 (p. 37).')));
  const body = el('div', { id: 'check-body' });
  const log = eventLog();
  let stop = null;
  const load = async (cool) => {
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
  };
  await coolPicker(root, async (cool) => {
    stop?.();
    await load(cool);
    stop = app.socket.subscribe(ALLOCATION_EVENTS, { c: cool.id }, {
      next: ({ allocationEvents: e }) => { log.add(e.kind, e.organization?.name, e.occurredAt); load(cool); },
      error: (errors) => body.append(notice(errors?.[0]?.message ?? 'error', 'error')),
    });
    app.onReconnect = () => load(cool);
  });
  root.append(body, log.section);
  return () => stop?.();
}

// ---------------------------------------------------------------- 配分・納入予定 (medical institution)

async function facilityScreen(root) {
  root.append(el('h2', {}, L('配分量と納入予定', 'Allocation and deliveries')),
    el('p', { class: 'muted' }, L('配分量はデータロック後に表示されます。納入予定日と納入実績は卸売業者が登録したときにリアルタイムで届きます(p. 43)。', 'Your allocation shows from the data lock on. Delivery dates and deliveries arrive live as the wholesaler enters them (p. 43).')));
  const body = el('div', { id: 'facility-body' });
  const log = eventLog();
  const stops = [];
  const load = async (cool) => {
    const [{ allocationStatus: status }, { deliveries }] = await Promise.all([
      api(STATUS, { c: cool.id }),
      api(DELIVERIES, { c: cool.id, f: app.user.organization.id }),
    ]);
    const rows = deliveries.edges.map(({ node: d }) => el('tr', { 'data-delivery': d.id, 'data-status': d.status },
      el('td', {}, d.product?.name ?? ''), el('td', { class: 'num' }, number(d.boxes)), el('td', { class: 'num' }, number(d.doses)),
      el('td', { class: 'scheduled' }, d.scheduledOn ?? L('未定', 'Not yet set')),
      el('td', { class: 'delivered' }, d.deliveredOn ?? '—'),
      el('td', {}, d.lots.map((lot) => `${lot.lotNumber} × ${lot.boxes}`).join('、') || '—'),
      el('td', {}, d.deliverer?.name ?? '')));
    fill(body, 
      lockBanner(status.locked),
      status.received.length
        ? table(L('配分量', 'Allocation'), [L('品目', 'Product'), L('箱数', 'Boxes'), L('回数', 'Doses')],
          status.received.map((r) => el('tr', {}, el('td', {}, r.product.name), el('td', { class: 'num' }, number(r.boxes)), el('td', { class: 'num' }, number(r.doses)))), { id: 'allocation' })
        : notice(L('データロック前のため、配分量はまだ表示されません。', 'Not locked yet: your allocation shows from the data lock on.')),
      rows.length
        ? table(L('納入', 'Deliveries'), [L('品目', 'Product'), L('箱数', 'Boxes'), L('回数', 'Doses'), L('納入予定日', 'Scheduled'), L('納入日', 'Delivered'), L('ロット', 'Lots'), L('納入業者', 'Deliverer')], rows, { id: 'deliveries' })
        : null);
  };
  await coolPicker(root, async (cool) => {
    while (stops.length) stops.pop()();
    await load(cool);
    const failed = (errors) => body.append(notice(errors?.[0]?.message ?? 'error', 'error'));
    stops.push(app.socket.subscribe(ALLOCATION_EVENTS, { c: cool.id }, {
      next: ({ allocationEvents: e }) => { log.add(e.kind, e.organization?.name, e.occurredAt); load(cool); },
      error: failed,
    }));
    stops.push(app.socket.subscribe(DELIVERY_EVENTS, {}, {
      next: ({ deliveryEvents: e }) => { log.add(e.kind, e.scheduledOn ?? e.deliveredOn, e.occurredAt); load(cool); },
      error: failed,
    }));
    app.onReconnect = () => load(cool);
  });
  root.append(body, log.section);
  return () => { while (stops.length) stops.pop()(); };
}

// ---------------------------------------------------------------- 分配・分配シミュレーション (p. 36)

const WEIGHTINGS = {
  POPULATION: ['人口', 'Population'], DESIRED_QUANTITY: ['希望量', 'Desired quantity'], CAPACITY: ['接種能力', 'Capacity'],
  STOCK_AND_USAGE: ['在庫と使用実績', 'Stock on hand and usage'], EQUAL: ['均等', 'Equal shares'],
};
const EXCLUSIONS = {
  NO_CURRENT_CONTRACT: ['有効な契約なし', 'No contract in force'], NO_RESPONSIBLE_DOCTOR: ['責任医師なし', 'No responsible doctor'],
  NO_VACCINATING_DOCTOR: ['接種医師なし', 'No vaccinating doctor'], VACCINE_NOT_HANDLED: ['このワクチンを取り扱わない', 'Does not handle the vaccine'],
  SUPPLIED_THROUGH_BASIC_FACILITY: ['基本型施設を通じて供給', 'Supplied through its basic-type facility'],
};
const PROPOSAL_FIELDS = `children { recipient { id name } weight exclusions overridden amounts { productCode boxes doses } }
  totals { productCode received allocated remaining } warnings { code message }`;
const GIVEN = `query($c: ID!) { allocationStatus(coolId: $c) { confirmedAt completedAt locked
  given { id recipient { id name } product { code name } boxes doses version } } }`;

async function allocateScreen(root) {
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
  root.append(controls, message, body);
  await showGiven();
  return null;
}

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

async function approvalsScreen(root) {
  root.append(el('h2', {}, L('医療機関情報の変更承認', 'Facility changes to approve')),
    el('p', { class: 'muted' }, L('医療機関が申請した変更を、変更前と変更後を並べて確認し、承認または差戻しします(p. 27)。新しい申請はリアルタイムで届きます。', 'Check each change requested by a facility, before and after side by side, then approve or return it (p. 27). New requests arrive live.')));
  const body = el('div', { id: 'approvals-body' });
  const message = el('div', { id: 'approvals-message', 'aria-live': 'polite' });
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  const load = async () => {
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
  };
  root.append(message, body);
  await load();
  const stop = app.socket.subscribe('subscription { facilityChangeRequests { id status } }', {}, { next: () => load() });
  app.onReconnect = load;
  return stop;
}

// ---------------------------------------------------------------- 接種実績・希望量の報告 (pp. 23, 42)

const CATEGORIES = {
  HEALTHCARE_WORKER: ['医療従事者等', 'Healthcare workers'], ELDERLY: ['高齢者', 'Aged 65+'],
  UNDERLYING_CONDITION: ['基礎疾患を有する者', 'Underlying conditions'], GENERAL: ['一般', 'General'], CHILD: ['小児', 'Children'],
};
const DOSES = [1, 2, 3];
const FACILITY_REPORTS = `query($f: ID!) { node(id: $f) { ... on Facility { vaccinesHandled
  vaccinationReports { productCode administered wasted wasteReason figures { doseNumber category administered } }
  stock { productCode delivered administered wasted transferredIn transferredOut onHand recentUsage } } } }`;

async function reportScreen(root) {
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
      ? table(L('在庫(回数)= 納入 − 接種 − 廃棄 ± 譲渡', 'Stock on hand (doses) = delivered − given − wasted ± transfers'),
        [L('品目', 'Product'), L('納入', 'Delivered'), L('接種', 'Given'), L('廃棄', 'Wasted'), L('譲渡', 'Transfers'), L('在庫', 'On hand')], rows, { id: 'stock' })
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

// ---------------------------------------------------------------- 納入予定・納入実績 (wholesaler, p. 43)

const TO_DELIVER = `query($c: ID!) { deliveries(coolId: $c, first: 100) { edges { node {
  id facility { name } product { code name } boxes doses releasedOn status scheduledOn deliveredOn deliveredBoxes lots { lotNumber boxes } version } } } }`;

async function deliveriesScreen(root) {
  root.append(el('h2', {}, L('納入予定日・納入実績の登録', 'Delivery dates and deliveries')),
    el('p', { class: 'muted' }, L('データロックで確定した配送先ごとに、納入予定日を登録し、納入後にロット番号と箱数を登録します。医療機関にはリアルタイムで届きます(p. 43)。', 'For each destination fixed by the data lock, register the scheduled date, then the delivery with its lots. The clinic sees both live (p. 43).')));
  const body = el('div', { id: 'deliveries-body' });
  const message = el('div', { id: 'deliveries-message', 'aria-live': 'polite' });
  let cool = null;
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  const load = async () => {
    const { deliveries } = await api(TO_DELIVER, { c: cool.id });
    const rows = deliveries.edges.map(({ node: d }) => {
      const date = el('input', { type: 'date', class: 'schedule-date', value: d.scheduledOn ?? '', 'aria-label': `${d.facility?.name} ${d.product?.code} ${L('納入予定日', 'scheduled date')}` });
      const lot = el('input', { class: 'lot', maxlength: 30, placeholder: L('ロット番号', 'Lot number'), 'aria-label': `${d.facility?.name} ${d.product?.code} ${L('ロット番号', 'lot number')}` });
      const on = el('input', { type: 'date', class: 'delivered-date', value: d.deliveredOn ?? '', 'aria-label': `${d.facility?.name} ${d.product?.code} ${L('納入日', 'delivered on')}` });
      const done = d.status === 'DELIVERED';
      return el('tr', { 'data-delivery': `${d.facility?.name}/${d.product?.code}`, 'data-status': d.status },
        el('th', { scope: 'row' }, d.facility?.name ?? ''), el('td', {}, d.product?.code ?? ''), el('td', { class: 'num' }, number(d.boxes)),
        el('td', {}, done ? (d.scheduledOn ?? '—') : [date, el('button', {
          type: 'button',
          class: 'secondary schedule',
          onclick: async () => {
            try {
              await api('mutation($d: ID!, $on: String!) { scheduleDelivery(deliveryId: $d, scheduledOn: $on) { scheduledOn } }', { d: d.id, on: date.value });
              await load();
              fill(message, notice(L(`${d.facility?.name} の納入予定日を ${date.value} にしました。`, `${d.facility?.name}: delivery scheduled on ${date.value}.`)));
            } catch (failure) { fail(failure); }
          },
        }, L('登録', 'Save'))]),
        el('td', {}, done
          ? `${d.deliveredOn} ${d.lots.map((l) => `${l.lotNumber} × ${l.boxes}`).join('、')}`
          : [on, lot, el('button', {
            type: 'button',
            class: 'secondary deliver',
            onclick: async () => {
              try {
                await api('mutation($d: ID!, $on: String!, $lots: [LotInput!]!) { recordDelivery(deliveryId: $d, deliveredOn: $on, lots: $lots) { status } }',
                  { d: d.id, on: on.value, lots: [{ lotNumber: lot.value.trim(), boxes: d.boxes }] });
                await load();
                fill(message, notice(L(`${d.facility?.name} への納入を登録しました。`, `Delivery to ${d.facility?.name} recorded.`)));
              } catch (failure) { fail(failure); }
            },
          }, L('納入済にする', 'Record delivery'))]),
        el('td', { class: 'status' }, { UNSCHEDULED: L('未定', 'Unscheduled'), SCHEDULED: L('予定登録済', 'Scheduled'), DELIVERED: L('納入済', 'Delivered') }[d.status] ?? d.status));
    });
    fill(body, rows.length
      ? table(L('配送先', 'Destinations'), [L('医療機関', 'Facility'), L('品目', 'Product'), L('箱数', 'Boxes'), L('納入予定日', 'Scheduled'), L('納入実績', 'Delivered'), L('状態', 'Status')], rows, { id: 'to-deliver' })
      : notice(L('このクールの配送先はまだありません(データロック後に表示されます)。', 'No destination in this cool yet (they appear with the data lock).')));
  };
  await coolPicker(root, async (picked) => { cool = picked; if (root.contains(body)) await load(); });
  root.append(message, body);
  await load();
  // A prefecture's lock hands new destinations over.
  const stop = app.socket.subscribe(ALLOCATION_EVENTS, { c: cool.id }, { next: () => load() });
  app.onReconnect = load;
  return stop;
}

// ---------------------------------------------------------------- 予約受付 (call centre, p. 40)

const SLOTS = `query($m: ID, $from: String!, $to: String!, $p: String) { availableSlots(municipalityId: $m, from: $from, to: $to,
  productCode: $p, first: 200) { truncated slots { id date startsAt endsAt free capacity productCode facility { id name } } } }`;
const BOOK = `mutation($i: BookReservationInput!) { bookReservation(input: $i) {
  id status date startsAt endsAt couponNumber name facility { name } } }`;
const BY_COUPON = `query($c: String!) { reservations(couponNumber: $c, first: 20) { edges { node {
  id status date startsAt endsAt doseNumber name couponNumber facility { name } cancelReason } } } }`;

function dayFromToday(days) {
  return new Date(Date.now() + 9 * 3600 * 1000 + days * 86400 * 1000).toISOString().slice(0, 10);
}

const field = (id, ja, en, props = {}) => el('label', {}, el('span', {}, L(ja, en)), el('input', { id, ...props }));

async function callCentreScreen(root) {
  const municipality = app.user.organization;
  root.append(el('h2', {}, L('予約受付(コールセンター)', 'Call-centre booking')),
    el('p', { class: 'muted' }, L(`${municipality?.name ?? ''}の会場の空き枠を探し、接種券番号で予約・変更・取消を行います(p. 40)。`, `Find free slots at ${municipality?.name ?? 'the municipality'}'s venues, and book, change or cancel by coupon number (p. 40).`)));
  const { products } = await api('{ products(kind: VACCINE) { code name } }');
  const productOf = new Map(products.map((p) => [p.code, p.name]));
  const search = el('form', { id: 'slot-search', class: 'card', novalidate: true },
    el('h3', {}, L('空き枠を探す', 'Find free slots')),
    el('div', { class: 'form-grid' },
      field('slots-from', '日付(から)', 'From', { type: 'date', value: dayFromToday(1) }),
      field('slots-to', '日付(まで)', 'To', { type: 'date', value: dayFromToday(7) }),
      el('label', {}, el('span', {}, L('ワクチン', 'Vaccine')),
        el('select', { id: 'slots-product' }, el('option', { value: '' }, L('指定なし', 'Any')), ...products.map((p) => el('option', { value: p.code }, p.name))))),
    el('button', { type: 'submit' }, L('検索', 'Search')));
  const slotList = el('div', { id: 'slots' });
  const chosen = { slot: null, changing: null };
  const message = el('div', { id: 'booking-message', 'aria-live': 'polite' });
  const form = el('form', { id: 'booking-form', class: 'card', novalidate: true, hidden: true },
    el('h3', { id: 'booking-slot' }),
    el('div', { class: 'form-grid' },
      field('b-municipality', '接種券の市区町村コード', 'Coupon municipality code', { inputmode: 'numeric', maxlength: 6, value: municipality?.code ?? '' }),
      field('b-coupon', '接種券番号(10桁)', 'Coupon number (10 digits)', { inputmode: 'numeric', maxlength: 10 }),
      field('b-name', '氏名', 'Name', { maxlength: 100 }),
      field('b-kana', '氏名(カナ)', 'Name in katakana', { maxlength: 100 }),
      field('b-birth', '生年月日', 'Date of birth', { type: 'date' }),
      field('b-phone', '電話番号', 'Phone', { inputmode: 'tel', maxlength: 20 }),
      el('label', {}, el('span', {}, L('接種回', 'Dose')), el('select', { id: 'b-dose' }, el('option', { value: 1 }, '1'), el('option', { value: 2 }, '2'), el('option', { value: 3 }, '3')))),
    el('button', { id: 'book', type: 'submit' }, L('この内容で予約する', 'Book')),
    el('button', { type: 'button', class: 'secondary', onclick: () => { form.hidden = true; } }, L('やめる', 'Cancel')));
  const lookup = el('form', { id: 'coupon-lookup', class: 'card', novalidate: true },
    el('h3', {}, L('予約の確認・変更・取消', 'Find, change or cancel a booking')),
    field('lookup-coupon', '接種券番号', 'Coupon number', { inputmode: 'numeric', maxlength: 10 }),
    el('button', { type: 'submit' }, L('予約を表示', 'Show bookings')),
    el('div', { id: 'coupon-reservations' }));

  const showError = (failure) => fill(message, notice(failure.message, 'error'));

  const loadSlots = async () => {
    try {
      const { availableSlots } = await api(SLOTS, { m: municipality?.id, from: $v('slots-from'), to: $v('slots-to'), p: $v('slots-product') || null });
      const rows = availableSlots.slots.map((slot) => el('tr', { 'data-slot': slot.id },
        el('td', {}, slot.facility?.name ?? ''), el('td', {}, productOf.get(slot.productCode) ?? slot.productCode),
        el('td', {}, slot.date), el('td', {}, `${slot.startsAt}–${slot.endsAt}`),
        el('td', { class: 'num' }, `${slot.free} / ${slot.capacity}`),
        el('td', {}, el('button', {
          type: 'button',
          class: 'pick',
          disabled: slot.free <= 0,
          onclick: () => pick(slot),
        }, chosen.changing ? L('この枠に変更', 'Move here') : L('この枠で予約', 'Book this slot')))));
      fill(slotList, rows.length
        ? table(L('空き枠', 'Free slots'), [L('会場', 'Venue'), L('ワクチン', 'Vaccine'), L('日付', 'Date'), L('時間', 'Time'), L('空き / 定員', 'Free / capacity'), ''], rows, { id: 'slot-table' })
        : notice(L('この条件の空き枠はありません。', 'No free slot in this period.')));
    } catch (failure) { showError(failure); }
  };

  const pick = async (slot) => {
    if (chosen.changing) {
      try {
        await api('mutation($r: ID!, $s: ID!) { changeReservation(reservationId: $r, slotId: $s) { id } }', { r: chosen.changing.id, s: slot.id });
        fill(message, notice(L(`予約を ${slot.date} ${slot.startsAt} に変更しました。`, `Moved to ${slot.date} ${slot.startsAt}.`)));
        chosen.changing = null;
        await Promise.all([loadSlots(), showBookings()]);
      } catch (failure) { showError(failure); }
      return;
    }
    chosen.slot = slot;
    $q('#booking-slot').textContent = `${slot.facility?.name ?? ''} ${slot.date} ${slot.startsAt}–${slot.endsAt}`;
    form.hidden = false;
    $q('#b-coupon').focus();
  };

  const showBookings = async () => {
    const coupon = $v('lookup-coupon').trim();
    const target = $q('#coupon-reservations');
    if (!coupon) return;
    try {
      const { reservations } = await api(BY_COUPON, { c: coupon });
      const rows = reservations.edges.map(({ node: r }) => el('tr', { 'data-reservation': r.id, 'data-status': r.status },
        el('td', {}, r.facility?.name ?? ''), el('td', {}, `${r.date} ${r.startsAt}`), el('td', {}, String(r.doseNumber)),
        el('td', {}, r.name), el('td', { class: 'status' }, r.status === 'CANCELLED' ? L('取消済', 'Cancelled') : L('予約中', 'Booked')),
        el('td', {}, r.status === 'CANCELLED' ? (r.cancelReason ?? '') : [
          el('button', { type: 'button', class: 'secondary change', onclick: () => { chosen.changing = r; fill(message, notice(L('変更先の枠を選んでください。', 'Choose the new slot.'))); loadSlots(); } }, L('変更', 'Change')),
          el('button', {
            type: 'button',
            class: 'danger cancel',
            onclick: async () => {
              try {
                await api('mutation($r: ID!, $why: String) { cancelReservation(reservationId: $r, reason: $why) { id } }', { r: r.id, why: L('電話で取消', 'Cancelled by phone') });
                fill(message, notice(L('予約を取り消しました。', 'The booking is cancelled.')));
                await Promise.all([loadSlots(), showBookings()]);
              } catch (failure) { showError(failure); }
            },
          }, L('取消', 'Cancel')),
        ])));
      fill(target, rows.length
        ? table(L('この接種券の予約', 'Bookings of this coupon'), [L('会場', 'Venue'), L('日時', 'When'), L('回', 'Dose'), L('氏名', 'Name'), L('状態', 'Status'), ''], rows, { id: 'coupon-table' })
        : notice(L('この接種券の予約はありません。', 'No booking for this coupon.')));
    } catch (failure) { showError(failure); }
  };

  search.addEventListener('submit', (event) => { event.preventDefault(); loadSlots(); });
  lookup.addEventListener('submit', (event) => { event.preventDefault(); showBookings(); });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = {
      facilityId: chosen.slot.facility.id, slotId: chosen.slot.id, productCode: chosen.slot.productCode,
      couponMunicipalityCode: $v('b-municipality').trim(), couponNumber: $v('b-coupon').trim(), name: $v('b-name').trim(),
      nameKana: $v('b-kana').trim(), birthDate: $v('b-birth'), phone: $v('b-phone').trim(), doseNumber: Number($v('b-dose')),
    };
    try {
      const { bookReservation: r } = await api(BOOK, { i: input });
      fill(message, el('p', { id: 'booked', class: 'banner ok', role: 'status' },
        L(`予約しました: ${r.facility?.name ?? ''} ${r.date} ${r.startsAt}–${r.endsAt}(${r.name} 様、接種券 ${r.couponNumber})`,
          `Booked: ${r.facility?.name ?? ''} ${r.date} ${r.startsAt}–${r.endsAt} (${r.name}, coupon ${r.couponNumber})`)));
      form.reset();
      form.hidden = true;
      $q('#lookup-coupon').value = input.couponNumber;
      await Promise.all([loadSlots(), showBookings()]);
    } catch (failure) { showError(failure); }
  });

  const $q = (selector) => root.querySelector(selector);
  const $v = (id) => root.querySelector(`#${id}`).value;
  root.append(search, message, slotList, form, lookup);
  await loadSlots();
  // Other operators book the same slots: the venues' availability keeps the list current.
  const stop = app.socket.subscribe('subscription($m: ID) { availabilityChanged(municipalityId: $m) { id } }', { m: municipality?.id }, {
    next: () => loadSlots(),
  });
  app.onReconnect = loadSlots;
  return stop;
}

// ---------------------------------------------------------------- 予約枠の一括作成 (p. 39)

const DAYS = [['MONDAY', '月', 'Mon'], ['TUESDAY', '火', 'Tue'], ['WEDNESDAY', '水', 'Wed'], ['THURSDAY', '木', 'Thu'],
  ['FRIDAY', '金', 'Fri'], ['SATURDAY', '土', 'Sat'], ['SUNDAY', '日', 'Sun']];

async function slotsScreen(root) {
  root.append(el('h2', {}, L('予約枠の一括作成', 'Create booking slots in bulk')),
    el('p', { class: 'muted' }, L('期間・曜日・受付時間・1枠の時間と定員を指定して、予約枠をまとめて作成します(p. 39)。ナビの空き状況にすぐ反映されます。', 'Give the period, the days, the opening hours, the slot length and places per slot; the slots are created at once (p. 39) and the navigator shows them immediately.')));
  const municipality = app.user.organization;
  const { navigatorSearch } = await api('query($m: ID!) { navigatorSearch(municipalityId: $m, first: 100) { venues { id name reservationMode } } }', { m: municipality.kind === 'FACILITY' ? null : municipality.id })
    .catch(() => ({ navigatorSearch: { venues: [] } }));
  const venues = municipality.kind === 'FACILITY'
    ? [{ id: municipality.id, name: municipality.name }]
    : navigatorSearch.venues.filter((v) => v.reservationMode === 'VSYS');
  const { products } = await api('{ products(kind: VACCINE) { code name } }');
  const input = (id, props) => el('input', { id, ...props });
  const form = el('form', { id: 'slots-form', class: 'card', novalidate: true },
    el('div', { class: 'form-grid' },
      el('label', {}, el('span', {}, L('会場', 'Venue')), el('select', { id: 'slot-venue' }, ...venues.map((v) => el('option', { value: v.id }, v.name)))),
      el('label', {}, el('span', {}, L('ワクチン', 'Vaccine')), el('select', { id: 'slot-product' }, ...products.map((p) => el('option', { value: p.code }, p.name)))),
      el('label', {}, el('span', {}, L('開始日', 'From')), input('slot-from', { type: 'date' })),
      el('label', {}, el('span', {}, L('終了日', 'To')), input('slot-to', { type: 'date' })),
      el('label', {}, el('span', {}, L('1枠の時間(分)', 'Minutes per slot')), input('slot-minutes', { type: 'number', min: 5, value: 30 })),
      el('label', {}, el('span', {}, L('1枠の定員', 'Places per slot')), input('slot-capacity', { type: 'number', min: 1, value: 6 }))),
    el('fieldset', { class: 'days' }, el('legend', {}, L('曜日', 'Days')),
      ...DAYS.map(([value, ja, en]) => el('label', { class: 'check' }, el('input', { type: 'checkbox', class: 'day', value, checked: true }), L(ja, en)))),
    el('fieldset', { class: 'periods' }, el('legend', {}, L('受付時間(2つまで)', 'Opening hours (up to two periods)')),
      el('label', {}, el('span', {}, L('午前 開始', 'Morning from')), input('p1-opens', { type: 'time', value: '09:00' })),
      el('label', {}, el('span', {}, L('午前 終了', 'Morning to')), input('p1-closes', { type: 'time', value: '12:00' })),
      el('label', {}, el('span', {}, L('午後 開始', 'Afternoon from')), input('p2-opens', { type: 'time' })),
      el('label', {}, el('span', {}, L('午後 終了', 'Afternoon to')), input('p2-closes', { type: 'time' }))),
    el('button', { id: 'create-slots', type: 'submit', disabled: venues.length === 0 }, L('予約枠を作成', 'Create the slots')));
  const message = el('div', { id: 'slots-message', 'aria-live': 'polite' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (id) => form.querySelector(`#${id}`).value;
    const periods = [['p1-opens', 'p1-closes'], ['p2-opens', 'p2-closes']]
      .filter(([opens, closes]) => value(opens) && value(closes))
      .map(([opens, closes]) => ({ opens: value(opens), closes: value(closes) }));
    try {
      const { createReservationSlots: created } = await api('mutation($i: ReservationScheduleInput!) { createReservationSlots(input: $i) { created warnings { code message } } }', { i: {
        facilityId: value('slot-venue'), productCode: value('slot-product'), from: value('slot-from'), to: value('slot-to'),
        daysOfWeek: [...form.querySelectorAll('input.day:checked')].map((c) => c.value), openingHours: periods,
        slotMinutes: Number(value('slot-minutes')), capacityPerSlot: Number(value('slot-capacity')),
      } });
      fill(message,
        el('p', { id: 'slots-created', class: 'banner ok', role: 'status' }, L(`${created.created}枠を作成しました。`, `${created.created} slots created.`)),
        created.warnings.length ? el('ul', { class: 'banner warn' }, ...created.warnings.map((w) => el('li', {}, w.message))) : null);
    } catch (failure) { fill(message, notice(failure.message, 'error')); }
  });
  root.append(venues.length ? null : notice(L('vsys で予約を受け付ける会場がありません。', 'No venue books in vsys.')), form, message);
  return null;
}

// ---------------------------------------------------------------- 住民からの届出・依頼 (municipality)

const REQUESTS = `query($s: ResidentRequestStatus) { residentRequests(status: $s) { id reference kind status name nameKana birthDate
  phone couponNumber couponMunicipality { name } reason submittedByFacility { name } createdAt decidedAt decisionReason newCouponNumber } }`;

async function residentRequestsScreen(root) {
  root.append(el('h2', {}, L('住民からの届出・依頼', 'Residents\' requests')),
    el('p', { class: 'muted' }, L('住所地外接種の届出と接種券の再発行依頼を確認し、受理・承認または返戻します。新しい届出はリアルタイムで届きます。', 'Out-of-area notifications and coupon reissue requests: accept or approve, or return with a reason. New requests arrive live.')));
  const body = el('div', { id: 'requests-body' });
  const message = el('div', { id: 'requests-message', 'aria-live': 'polite' });
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  const load = async () => {
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
  };
  root.append(message, body);
  await load();
  const stop = app.socket.subscribe('subscription { residentRequests { sequence } }', {}, { next: () => load() });
  app.onReconnect = load;
  return stop;
}

// ---------------------------------------------------------------- 供給量・出荷 (manufacturer, warehouse)

/** Names of organisations by id, read in batches of aliases (the API allows 30 a request). */
async function namesOf(ids) {
  const unique = [...new Set(ids.filter(Boolean))];
  const names = new Map();
  for (let i = 0; i < unique.length; i += 25) {
    const batch = unique.slice(i, i + 25);
    const query = `{ ${batch.map((id, n) => `o${n}: organization(id: ${JSON.stringify(id)}) { name }`).join(' ')} }`;
    const data = await api(query).catch(() => ({}));
    batch.forEach((id, n) => names.set(id, data[`o${n}`]?.name ?? id));
  }
  return names;
}

async function supplyScreen(root) {
  const mine = app.user.role === 'MANUFACTURER' ? L('ワクチン', 'vaccine') : L('注射針・シリンジ', 'needles and syringes');
  root.append(el('h2', {}, L('供給量と卸売業者への出荷', 'Supply and shipments to wholesalers')),
    el('p', { class: 'muted' }, L(`クールごとに${mine}の供給可能量を登録し、卸売業者ごとの納入状況と在庫を確認します(pp. 22, 43)。`, `Register the ${mine} available per cool, and follow deliveries and stock per wholesaler (pp. 22, 43).`)));
  const body = el('div', { id: 'supply-body' });
  const message = el('div', { id: 'supply-message', 'aria-live': 'polite' });
  const { products } = await api('{ products { code name kind } }');
  const choices = products.filter((p) => (app.user.role === 'MANUFACTURER' ? p.kind === 'VACCINE' : p.kind !== 'VACCINE'));
  let cool = null;
  const load = async () => {
    const { node, deliveryTotals, wholesalerStock } = await api(`query($c: ID!) { node(id: $c) { ... on Cool { supply { product { code name } supplier { name } boxes doses } } }
      deliveryTotals(coolId: $c) { delivererId productCode deliveries boxes scheduledBoxes deliveredBoxes }
      wholesalerStock(coolId: $c) { wholesalerId productCode received delivered onHand } }`, { c: cool.id });
    const names = await namesOf([...deliveryTotals.map((t) => t.delivererId), ...wholesalerStock.map((w) => w.wholesalerId)]);
    fill(body,
      table(L('登録された供給量', 'Supply registered'), [L('品目', 'Product'), L('供給元', 'Supplier'), L('箱数', 'Boxes'), L('回数', 'Doses')],
        node.supply.map((x) => el('tr', { 'data-product': x.product?.code ?? '' }, el('th', { scope: 'row' }, x.product?.name ?? ''), el('td', {}, x.supplier?.name ?? ''),
          el('td', { class: 'num' }, number(x.boxes)), el('td', { class: 'num' }, number(x.doses)))), { id: 'supply' }),
      table(L('卸売業者ごとの納入', 'Deliveries per wholesaler'), [L('卸売業者', 'Wholesaler'), L('品目', 'Product'), L('配送先', 'Destinations'), L('箱数', 'Boxes'), L('予定登録済', 'Scheduled'), L('納入済', 'Delivered')],
        deliveryTotals.map((t) => el('tr', { 'data-deliverer': names.get(t.delivererId) ?? '' }, el('th', { scope: 'row' }, names.get(t.delivererId) ?? '—'), el('td', {}, t.productCode),
          el('td', { class: 'num' }, number(t.deliveries)), el('td', { class: 'num' }, number(t.boxes)), el('td', { class: 'num' }, number(t.scheduledBoxes)), el('td', { class: 'num' }, number(t.deliveredBoxes)))),
        { id: 'delivery-totals' }),
      table(L('卸売業者の入荷・在庫', 'Wholesalers\' receipts and stock'), [L('卸売業者', 'Wholesaler'), L('品目', 'Product'), L('入荷', 'Received'), L('納入', 'Delivered'), L('在庫', 'On hand')],
        wholesalerStock.map((w) => el('tr', {}, el('th', { scope: 'row' }, names.get(w.wholesalerId) ?? ''), el('td', {}, w.productCode),
          el('td', { class: 'num' }, number(w.received)), el('td', { class: 'num' }, number(w.delivered)), el('td', { class: 'num' }, number(w.onHand))))));
  };
  const form = el('form', { id: 'supply-form', class: 'card', novalidate: true },
    el('h3', {}, L('供給可能量の登録', 'Register supply')),
    el('div', { class: 'form-grid' },
      el('label', {}, el('span', {}, L('品目', 'Product')), el('select', { id: 'supply-product' }, ...choices.map((p) => el('option', { value: p.code }, p.name)))),
      el('label', {}, el('span', {}, L('箱数', 'Boxes')), el('input', { id: 'supply-boxes', type: 'number', min: 0 }))),
    el('button', { type: 'submit' }, L('登録', 'Register')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('mutation($c: ID!, $p: String!, $b: Int!) { registerSupply(coolId: $c, productCode: $p, boxes: $b) { boxes } }',
        { c: cool.id, p: form.querySelector('#supply-product').value, b: Number(form.querySelector('#supply-boxes').value) });
      await load();
      fill(message, notice(L('供給可能量を登録しました。', 'The supply is registered.')));
    } catch (failure) { fill(message, notice(failure.message, 'error')); }
  });
  await coolPicker(root, async (picked) => { cool = picked; if (root.contains(body)) await load(); });
  root.append(form, message, body);
  if (cool) await load();
  return null;
}

// ---------------------------------------------------------------- ドライアイス (dry-ice supplier)

async function dryIceScreen(root) {
  root.append(el('h2', {}, L('ドライアイスの配送先と交換日', 'Dry-ice destinations and exchange dates')),
    el('p', { class: 'muted' }, L('ドライアイスで配送されるワクチンの配送先ごとに、到着日と保冷ボックスのドライアイス交換日を確認します(p. 43)。', 'For each destination of a vaccine shipped on dry ice: the day it arrives and the days its box needs fresh dry ice (p. 43).')));
  const body = el('div', { id: 'dry-ice-body' });
  let cool = null;
  const load = async () => {
    const { dryIceSchedule } = await api('query($c: ID!) { dryIceSchedule(coolId: $c) { deliveryId facilityId productCode arrivesOn delivered exchangeDates } }', { c: cool.id });
    const names = await namesOf(dryIceSchedule.map((d) => d.facilityId));
    fill(body, dryIceSchedule.length
      ? table(L('配送先', 'Destinations'), [L('医療機関', 'Facility'), L('品目', 'Product'), L('到着日', 'Arrives'), L('納入済', 'Delivered'), L('交換日', 'Exchange dates')],
        dryIceSchedule.map((d) => el('tr', { 'data-facility': names.get(d.facilityId) ?? '' },
          el('th', { scope: 'row' }, names.get(d.facilityId) ?? ''), el('td', {}, d.productCode), el('td', {}, d.arrivesOn ?? L('未定', 'Not yet set')),
          el('td', {}, d.delivered ? '✔' : '—'), el('td', { class: 'exchange' }, d.exchangeDates.join('、') || '—'))), { id: 'dry-ice' })
      : notice(L('このクールのドライアイス配送はまだありません。', 'Nothing ships on dry ice in this cool yet.')));
  };
  await coolPicker(root, async (picked) => { cool = picked; if (root.contains(body)) await load(); });
  root.append(body);
  if (cool) await load();
  const stop = app.socket.subscribe(DELIVERY_EVENTS, {}, { next: () => load() });
  app.onReconnect = load;
  return stop;
}

// ---------------------------------------------------------------- 予診票 (questionnaires, documents)

const JOBS = `{ documentJobs { id status progressDone progressTotal error createdAt finishedAt
  files { fileName part pages byteSize downloadUrl downloadExpiresAt } } questionnaireImports { fileName imported createdAt } }`;
const JOB_STATUS = {
  QUEUED: ['待機中', 'Queued'], RUNNING: ['作成中', 'Running'], SUCCEEDED: ['完了', 'Done'], FAILED: ['失敗', 'Failed'],
};

async function questionnairesScreen(root) {
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
  const load = async () => {
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
  };
  root.append(importForm, generate, message, jobs);
  await load();
  const stop = app.socket.subscribe('subscription { documentJobs { jobId } }', {}, { next: () => load() });
  app.onReconnect = load;
  return stop;
}

// ---------------------------------------------------------------- 特設会場・医師の登録 (municipality, p. 28)

const VENUES = `query($m: String!) { facilities(municipalityCode: $m, facilityType: SPECIAL_VENUE, first: 100) { edges { node {
  id code name address reservationMode eligibility { eligible reasons } doctors { id name licenceNumber roles active } } } } }`;
// The eligibility reasons are the proposal's exclusions (the same names).
const REASONS = EXCLUSIONS;

async function venuesScreen(root) {
  const municipality = app.user.organization;
  root.append(el('h2', {}, L('特設会場と医師の登録', 'Special venues and their doctors')),
    el('p', { class: 'muted' }, L('市区町村が運営する特設会場を登録し、責任医師・接種医師を登録します。同じ医師が両方を兼ねる場合は両方を選びます(p. 28)。医師がそろうまで配分の対象外です。', 'Register the special venues your municipality runs, and their responsible and vaccinating doctors; one doctor may hold both roles (p. 28). A venue gets no allocation until its doctors are registered.')));
  const message = el('div', { id: 'venues-message', 'aria-live': 'polite' });
  const list = el('div', { id: 'venues-body' });
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  const reasonName = (r) => (REASONS[r] ? L(...REASONS[r]) : r);
  const load = async () => {
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
  };
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

// ---------------------------------------------------------------- アカウント (every role)

async function accountScreen(root) {
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

/** The screens, in menu order, with the roles that see them. */
export const SCREENS = [
  { id: 'board', roles: ['NATION'], title: () => L('全国の進捗', 'National board'), mount: boardScreen },
  { id: 'check', roles: ['PREFECTURE'], title: () => L('配分チェック・データロック', 'Check and data lock'), mount: checkScreen },
  { id: 'received', roles: ['PREFECTURE', 'MUNICIPALITY'], title: () => L('配分量の確認', 'Allocation received'), mount: receivedScreen },
  { id: 'approvals', roles: ['MUNICIPALITY'], title: () => L('変更承認', 'Approvals'), mount: approvalsScreen },
  { id: 'allocate', roles: ['NATION', 'PREFECTURE', 'MUNICIPALITY'], title: () => L('分配', 'Allocate'), mount: allocateScreen },
  { id: 'facility', roles: ['MEDICAL_INSTITUTION'], title: () => L('配分量と納入予定', 'Allocation and deliveries'), mount: facilityScreen },
  { id: 'report', roles: ['MEDICAL_INSTITUTION'], title: () => L('接種実績・希望量', 'Report and desired quantity'), mount: reportScreen },
  { id: 'deliveries', roles: ['WHOLESALER'], title: () => L('納入予定・納入実績', 'Deliveries'), mount: deliveriesScreen },
  { id: 'supply', roles: ['MANUFACTURER', 'SUPPLY_WAREHOUSE'], title: () => L('供給量・出荷', 'Supply'), mount: supplyScreen },
  { id: 'dry-ice', roles: ['DRY_ICE_SUPPLIER'], title: () => L('ドライアイス', 'Dry ice'), mount: dryIceScreen },
  { id: 'call-centre', roles: ['RESERVATION_OPERATOR', 'MUNICIPALITY'], title: () => L('予約受付', 'Call-centre booking'), mount: callCentreScreen },
  { id: 'venues', roles: ['MUNICIPALITY'], title: () => L('特設会場・医師', 'Venues and doctors'), mount: venuesScreen },
  { id: 'questionnaires', roles: ['MEDICAL_INSTITUTION', 'MUNICIPALITY'], title: () => L('予診票', 'Questionnaires'), mount: questionnairesScreen },
  { id: 'slots', roles: ['MUNICIPALITY', 'MEDICAL_INSTITUTION'], title: () => L('予約枠の作成', 'Booking slots'), mount: slotsScreen },
  { id: 'requests', roles: ['MUNICIPALITY'], title: () => L('住民からの届出', 'Residents\' requests'), mount: residentRequestsScreen },
  {
    id: 'account',
    roles: ['NATION', 'PREFECTURE', 'MUNICIPALITY', 'MEDICAL_INSTITUTION', 'AGGREGATOR', 'MEDICAL_ASSOCIATION', 'MANUFACTURER',
      'WHOLESALER', 'DRY_ICE_SUPPLIER', 'SUPPLY_WAREHOUSE', 'SYSTEM_ADMIN', 'RESERVATION_OPERATOR'],
    title: () => L('アカウント', 'Account'),
    mount: accountScreen,
  },
];
