// What the work screens share: the cool picker, tables, the live log, the progress chips and
// the lock banner, the queries and feeds more than one screen reads, names of organisations.
import { el } from '/web/shared/dom.js';
import { app, L, api, notice } from '/web/app/app.js';

export const COOLS = '{ cools { id number startsOn endsOn product { code name } } }';
export const STATUS = `query($c: ID!) { allocationStatus(coolId: $c) {
  received { product { code name } boxes doses } given { recipient { name } product { code } boxes doses }
  confirmedAt completedAt locked } }`;
export const CHECK = `query($c: ID!) { allocationCheck(coolId: $c) { prefectureCompleted locked canLock notCompleted
  municipalities { municipality { name } mark balanced blocksLock confirmedAt completedAt products { productCode received given } } } }`;
export const ALLOCATION_EVENTS = 'subscription($c: ID) { allocationEvents(coolId: $c) { sequence kind organization { name } occurredAt } }';
export const DELIVERIES = `query($c: ID!, $f: ID!) { deliveries(coolId: $c, facilityId: $f, first: 50) { edges { node {
  id product { code name } boxes doses status scheduledOn deliveredOn lots { lotNumber boxes } deliverer { name } } } } }`;
export const DELIVERY_EVENTS = 'subscription { deliveryEvents { sequence kind deliveryId scheduledOn deliveredOn occurredAt } }';

export const KIND = {
  PROPOSED: ['配分案', 'Proposed'], CHANGED: ['変更', 'Changed'], CONFIRMED: ['確認済', 'Confirmed'],
  COMPLETED: ['分配作業完了', 'Completed'], LOCKED: ['データロック', 'Data lock'],
  SCHEDULED: ['納入予定日登録', 'Delivery date set'], DELIVERED: ['納入済', 'Delivered'],
};
/** The parts of a stock chart: where the doses received went. */
export const STOCK_SEGMENTS = () => [
  { key: 'given', label: L('接種', 'Given'), tone: 'tone-given' },
  { key: 'wasted', label: L('廃棄', 'Wasted'), tone: 'tone-wasted' },
  { key: 'moved', label: L('譲渡', 'Transferred out'), tone: 'tone-moved' },
  { key: 'stock', label: L('在庫', 'On hand'), tone: 'tone-stock' },
];

export const kindLabel = (kind) => (KIND[kind] ? L(...KIND[kind]) : kind);

export function when(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(app.lang === 'en' ? 'en-GB' : 'ja-JP', { timeZone: 'Asia/Tokyo', dateStyle: 'medium', timeStyle: 'short' });
}

export const number = (n) => Number(n).toLocaleString();

export function table(caption, headers, rows, attrs = {}) {
  return el('table', { class: 'grid', ...attrs },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows));
}

/** The cool picker (newest first); calls `onPick(cool)` now and on every change. */
export async function coolPicker(root, onPick) {
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
export function eventLog() {
  const list = el('ol', { id: 'event-log', class: 'event-log', 'aria-live': 'polite' });
  const section = el('section', { class: 'card' }, el('h3', {}, L('ライブの更新', 'Live updates')), list);
  return {
    section,
    add(kind, who, at) {
      list.prepend(el('li', { 'data-kind': kind }, `${when(at)} ${kindLabel(kind)}${who ? ` — ${who}` : ''}`));
    },
  };
}

export function chips(status) {
  const chip = (on, ja, en, id) => el('span', { class: `chip ${on ? 'on' : ''}`, id }, `${on ? '✔ ' : ''}${L(ja, en)}`);
  return el('p', { class: 'chips' },
    chip(Boolean(status.confirmedAt), '確認済', 'Confirmed', 'chip-confirmed'),
    chip(Boolean(status.completedAt), '分配作業完了', 'Allocation complete', 'chip-completed'),
    chip(status.locked, 'データロック', 'Data lock', 'chip-locked'));
}

export function lockBanner(locked) {
  return locked
    ? el('p', { id: 'lock-banner', class: 'banner locked', role: 'status' }, L('データロックされました。この配分はもう変更できません。配送業者に引き渡されます。', 'The data lock is on: this allocation can no longer change and goes to the deliverers.'))
    : null;
}

export const EXCLUSIONS = {
  NO_CURRENT_CONTRACT: ['有効な契約なし', 'No contract in force'], NO_RESPONSIBLE_DOCTOR: ['責任医師なし', 'No responsible doctor'],
  NO_VACCINATING_DOCTOR: ['接種医師なし', 'No vaccinating doctor'], VACCINE_NOT_HANDLED: ['このワクチンを取り扱わない', 'Does not handle the vaccine'],
  SUPPLIED_THROUGH_BASIC_FACILITY: ['基本型施設を通じて供給', 'Supplied through its basic-type facility'],
};

/** Names of organisations by id, read in batches of aliases (the API allows 30 a request). */
export async function namesOf(ids) {
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

/**
 * A loader that never leaves stale data on the screen: a call while a load runs makes one more
 * load after it (with the latest arguments), so the last render follows the last event even
 * when responses would arrive out of order.
 */
export function serialized(load) {
  let running = null;
  let again = false;
  let latest = [];
  return (...args) => {
    latest = args;
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await load(...latest);
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

/**
 * The cool picker of a screen that follows the allocation cycle: each event of the picked cool
 * is logged and reloads the screen. Returns the function that stops following.
 */
export async function followCoolAllocation(root, { load, log, body }) {
  let stop = null;
  await coolPicker(root, async (cool) => {
    stop?.();
    await load(cool);
    stop = app.socket.subscribe(ALLOCATION_EVENTS, { c: cool.id }, {
      next: ({ allocationEvents: e }) => { log.add(e.kind, e.organization?.name, e.occurredAt); load(cool); },
      error: (errors) => body.append(notice(errors?.[0]?.message ?? 'error', 'error')),
    });
    app.onReconnect = () => load(cool);
  });
  return () => stop?.();
}
