// Deliveries and supply (p. 43): the clinic's allocation and delivery dates, the wholesaler's
// destinations, the manufacturer's and warehouse's supply, the dry-ice supplier's schedule.
import { el, fill } from '/web/shared/dom.js';
import { app, L, api, notice } from '/web/app/app.js';
import { STATUS, ALLOCATION_EVENTS, DELIVERIES, DELIVERY_EVENTS, number, table, coolPicker, eventLog, lockBanner, namesOf, serialized } from '/web/app/screens/common.js';

// ---------------------------------------------------------------- 配分・納入予定 (medical institution)

export async function facilityScreen(root) {
  root.append(el('h2', {}, L('配分量と納入予定', 'Allocation and deliveries')),
    el('p', { class: 'muted' }, L('配分量はデータロック後に表示されます。納入予定日と納入実績は卸売業者が登録したときにリアルタイムで届きます(p. 43)。', 'Your allocation shows from the data lock on. Delivery dates and deliveries arrive live as the wholesaler enters them (p. 43).')));
  const body = el('div', { id: 'facility-body' });
  const log = eventLog();
  const stops = [];
  const load = serialized(async (cool) => {
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
  });
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

// ---------------------------------------------------------------- 納入予定・納入実績 (wholesaler, p. 43)

const TO_DELIVER = `query($c: ID!) { deliveries(coolId: $c, first: 100) { edges { node {
  id facility { name } product { code name } boxes doses releasedOn status scheduledOn deliveredOn deliveredBoxes lots { lotNumber boxes } version } } } }`;

export async function deliveriesScreen(root) {
  root.append(el('h2', {}, L('納入予定日・納入実績の登録', 'Delivery dates and deliveries')),
    el('p', { class: 'muted' }, L('データロックで確定した配送先ごとに、納入予定日を登録し、納入後にロット番号と箱数を登録します。医療機関にはリアルタイムで届きます(p. 43)。', 'For each destination fixed by the data lock, register the scheduled date, then the delivery with its lots. The clinic sees both live (p. 43).')));
  const body = el('div', { id: 'deliveries-body' });
  const message = el('div', { id: 'deliveries-message', 'aria-live': 'polite' });
  let cool = null;
  const fail = (failure) => fill(message, notice(failure.message, 'error'));
  const load = serialized(async () => {
    if (!cool) return; // no cool opened yet: the picker says so
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
  });
  await coolPicker(root, async (picked) => { cool = picked; if (root.contains(body)) await load(); });
  root.append(message, body);
  await load();
  // A prefecture's lock hands new destinations over.
  const stop = app.socket.subscribe(ALLOCATION_EVENTS, { c: cool?.id ?? null }, { next: () => load() });
  app.onReconnect = load;
  return stop;
}

// ---------------------------------------------------------------- 供給量・出荷 (manufacturer, warehouse)

// Shipments to wholesalers, as the senders and the wholesaler read them.
const SHIPMENT_FIELDS = 'id product { code name } sender { id name } wholesaler { id name } boxes shippedOn receivedOn';
const SHIPMENTS = `query($c: ID!) { shipments(coolId: $c) { ${SHIPMENT_FIELDS} } }`;
const RECEIPTS = `query($c: ID!) { shipments(coolId: $c) { ${SHIPMENT_FIELDS} }
  wholesalerStock(coolId: $c) { productCode received delivered onHand } }`;

export async function supplyScreen(root) {
  const mine = app.user.role === 'MANUFACTURER' ? L('ワクチン', 'vaccine') : L('注射針・シリンジ', 'needles and syringes');
  root.append(el('h2', {}, L('供給量と卸売業者への出荷', 'Supply and shipments to wholesalers')),
    el('p', { class: 'muted' }, L(`クールごとに${mine}の供給可能量を登録し、卸売業者ごとの納入状況と在庫を確認します(pp. 22, 43)。`, `Register the ${mine} available per cool, and follow deliveries and stock per wholesaler (pp. 22, 43).`)));
  const body = el('div', { id: 'supply-body' });
  const message = el('div', { id: 'supply-message', 'aria-live': 'polite' });
  const { products } = await api('{ products { code name kind } }');
  const choices = products.filter((p) => (app.user.role === 'MANUFACTURER' ? p.kind === 'VACCINE' : p.kind !== 'VACCINE'));
  let cool = null;
  const load = serialized(async () => {
    if (!cool) return; // no cool opened yet: the picker says so
    const { node, deliveryTotals, wholesalerStock } = await api(`query($c: ID!) { node(id: $c) { ... on Cool { supply { product { code name } supplier { name } boxes doses } } }
      deliveryTotals(coolId: $c) { delivererId productCode deliveries boxes scheduledBoxes deliveredBoxes }
      wholesalerStock(coolId: $c) { wholesalerId productCode received delivered onHand } }`, { c: cool.id });
    const names = await namesOf([...deliveryTotals.map((t) => t.delivererId), ...wholesalerStock.map((w) => w.wholesalerId)]);
    const { shipments } = await api(SHIPMENTS, { c: cool.id });
    fill(body,
      shipmentsTable(shipments.filter((x) => x.sender?.id === app.user.organization.id), 'sender'),
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
  });
  const form = el('form', { id: 'supply-form', class: 'card', novalidate: true },
    el('h3', {}, L('供給可能量の登録', 'Register supply')),
    el('div', { class: 'form-grid' },
      el('label', {}, el('span', {}, L('品目', 'Product')), el('select', { id: 'supply-product' }, ...choices.map((p) => el('option', { value: p.code }, p.name)))),
      el('label', {}, el('span', {}, L('箱数', 'Boxes')), el('input', { id: 'supply-boxes', type: 'number', min: 0 }))),
    el('button', { type: 'submit' }, L('登録', 'Register')));
  const wholesalers = (await api('{ organizations(kind: WHOLESALER, first: 100) { nodes { id name } } }')).organizations.nodes;
  const shipForm = el('form', { id: 'ship-form', class: 'card', novalidate: true },
    el('h3', {}, L('卸売業者への出荷', 'Ship to a wholesaler')),
    el('div', { class: 'form-grid' },
      el('label', {}, el('span', {}, L('品目', 'Product')), el('select', { id: 'ship-product' }, ...choices.map((p) => el('option', { value: p.code }, p.name)))),
      el('label', {}, el('span', {}, L('卸売業者', 'Wholesaler')), el('select', { id: 'ship-wholesaler' }, ...wholesalers.map((w) => el('option', { value: w.id }, w.name)))),
      el('label', {}, el('span', {}, L('箱数', 'Boxes')), el('input', { id: 'ship-boxes', type: 'number', min: 1 })),
      el('label', {}, el('span', {}, L('出荷日', 'Shipped on')), el('input', { id: 'ship-on', type: 'date' }))),
    el('button', { type: 'submit' }, L('出荷を登録', 'Record the shipment')));
  shipForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (id) => shipForm.querySelector(`#${id}`).value;
    try {
      await api('mutation($i: RecordShipmentInput!) { recordShipment(input: $i) { boxes shippedOn } }', {
        i: { coolId: cool.id, productCode: value('ship-product'), wholesalerId: value('ship-wholesaler'), boxes: Number(value('ship-boxes')), shippedOn: value('ship-on') },
      });
      await load();
      fill(message, notice(L('出荷を登録しました。卸売業者が入荷を登録すると在庫に反映されます。', 'The shipment is recorded. It counts as the wholesaler\'s stock once the wholesaler records its receipt.')));
    } catch (failure) { fill(message, notice(failure.message, 'error')); }
  });
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
  root.append(form, shipForm, message, body);
  if (cool) await load();
  return null;
}

// ---------------------------------------------------------------- 入荷・在庫 (wholesaler, p. 43)

/** Shipments as a table; as the wholesaler (`receiver`) each open one has its receipt entry. */
function shipmentsTable(shipments, side, receive) {
  const rows = shipments.map((x) => {
    const on = el('input', { type: 'date', class: 'received-date', 'aria-label': `${x.sender?.name ?? ''} ${x.product?.code ?? ''} ${x.shippedOn} ${L('入荷日', 'received on')}` });
    return el('tr', { 'data-shipment': `${x.product?.code}/${x.shippedOn}`, 'data-received': x.receivedOn ? 'yes' : 'no' },
      el('th', { scope: 'row' }, side === 'receiver' ? (x.sender?.name ?? '') : (x.wholesaler?.name ?? '')),
      el('td', {}, x.product?.name ?? ''), el('td', { class: 'num' }, number(x.boxes)), el('td', {}, x.shippedOn),
      el('td', { class: 'received' }, x.receivedOn
        ?? (receive ? [on, el('button', { type: 'button', class: 'secondary receive', onclick: () => receive(x, on.value) }, L('入荷を登録', 'Record receipt'))] : L('未入荷', 'Not received yet'))));
  });
  return rows.length
    ? table(side === 'receiver' ? L('届く出荷', 'Shipments to you') : L('出荷の記録', 'Shipments sent'),
      [side === 'receiver' ? L('出荷元', 'From') : L('卸売業者', 'Wholesaler'), L('品目', 'Product'), L('箱数', 'Boxes'), L('出荷日', 'Shipped on'), L('入荷日', 'Received on')],
      rows, { id: 'shipments' })
    : notice(L('このクールの出荷はまだありません。', 'No shipment in this cool yet.'));
}

export async function receiptsScreen(root) {
  root.append(el('h2', {}, L('入荷と在庫', 'Receipts and stock')),
    el('p', { class: 'muted' }, L('メーカーと針・シリンジ倉庫からの出荷を受け取ったら入荷日を登録します。在庫は入荷から医療機関への納入を引いた箱数です(p. 43)。', 'Record the day each shipment from the manufacturer or the needle and syringe warehouse arrives. Stock is what you received less what you delivered to facilities (p. 43).')));
  const body = el('div', { id: 'receipts-body' });
  const message = el('div', { id: 'receipts-message', 'aria-live': 'polite' });
  let cool = null;
  const load = serialized(async () => {
    if (!cool) return; // no cool opened yet: the picker says so
    const { shipments, wholesalerStock } = await api(RECEIPTS, { c: cool.id });
    fill(body,
      shipmentsTable(shipments, 'receiver', async (shipment, on) => {
        try {
          await api('mutation($s: ID!, $on: String!) { receiveShipment(shipmentId: $s, receivedOn: $on) { receivedOn } }', { s: shipment.id, on });
          await load();
          fill(message, notice(L(`${shipment.product?.name} ${number(shipment.boxes)}箱の入荷を登録しました。`, `Receipt of ${number(shipment.boxes)} boxes of ${shipment.product?.name} recorded.`)));
        } catch (failure) { fill(message, notice(failure.message, 'error')); }
      }),
      wholesalerStock.length
        ? table(L('在庫(箱)', 'Stock (boxes)'), [L('品目', 'Product'), L('入荷', 'Received'), L('納入', 'Delivered'), L('在庫', 'On hand')],
          wholesalerStock.map((w) => el('tr', { 'data-product': w.productCode }, el('th', { scope: 'row' }, w.productCode),
            el('td', { class: 'num' }, number(w.received)), el('td', { class: 'num' }, number(w.delivered)), el('td', { class: 'num on-hand' }, number(w.onHand)))),
          { id: 'wholesaler-stock' })
        : null);
  });
  await coolPicker(root, async (picked) => { cool = picked; if (root.contains(body)) await load(); });
  root.append(message, body);
  if (cool) await load();
  // Deliveries entered here lower the stock; a reconnect reads again.
  const stop = app.socket.subscribe(DELIVERY_EVENTS, {}, { next: () => load() });
  app.onReconnect = load;
  return stop;
}

// ---------------------------------------------------------------- ドライアイス (dry-ice supplier)

export async function dryIceScreen(root) {
  root.append(el('h2', {}, L('ドライアイスの配送先と交換日', 'Dry-ice destinations and exchange dates')),
    el('p', { class: 'muted' }, L('ドライアイスで配送されるワクチンの配送先ごとに、到着日と保冷ボックスのドライアイス交換日を確認します(p. 43)。', 'For each destination of a vaccine shipped on dry ice: the day it arrives and the days its box needs fresh dry ice (p. 43).')));
  const body = el('div', { id: 'dry-ice-body' });
  let cool = null;
  const load = serialized(async () => {
    if (!cool) return; // no cool opened yet: the picker says so
    const { dryIceSchedule } = await api('query($c: ID!) { dryIceSchedule(coolId: $c) { deliveryId facilityId productCode arrivesOn delivered exchangeDates } }', { c: cool.id });
    const names = await namesOf(dryIceSchedule.map((d) => d.facilityId));
    fill(body, dryIceSchedule.length
      ? table(L('配送先', 'Destinations'), [L('医療機関', 'Facility'), L('品目', 'Product'), L('到着日', 'Arrives'), L('納入済', 'Delivered'), L('交換日', 'Exchange dates')],
        dryIceSchedule.map((d) => el('tr', { 'data-facility': names.get(d.facilityId) ?? '' },
          el('th', { scope: 'row' }, names.get(d.facilityId) ?? ''), el('td', {}, d.productCode), el('td', {}, d.arrivesOn ?? L('未定', 'Not yet set')),
          el('td', {}, d.delivered ? '✔' : '—'), el('td', { class: 'exchange' }, d.exchangeDates.join('、') || '—'))), { id: 'dry-ice' })
      : notice(L('このクールのドライアイス配送はまだありません。', 'Nothing ships on dry ice in this cool yet.')));
  });
  await coolPicker(root, async (picked) => { cool = picked; if (root.contains(body)) await load(); });
  root.append(body);
  // Follow first, then read: whatever changes after the read is heard.
  const stop = app.socket.subscribe(DELIVERY_EVENTS, {}, { next: () => load() });
  if (cool) await load();
  app.onReconnect = load;
  return stop;
}
