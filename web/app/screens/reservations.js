// Bookings: the call centre's screen (p. 40) and bulk slot creation (p. 39).
import { el, fill } from '/web/shared/dom.js';
import { app, L, api, notice } from '/web/app/app.js';
import { number, table, serialized, when } from '/web/app/screens/common.js';

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

export async function callCentreScreen(root) {
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

  const loadSlots = serialized(async () => {
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
  });

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

export async function slotsScreen(root) {
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

// ---------------------------------------------------------------- 予約状況 (medical institution)

const STATUSES = {
  BOOKABLE: ['予約可能', 'Bookable'], FEW_LEFT: ['若干空き有り', 'A few places left'],
  NOT_BOOKABLE: ['予約不可能', 'Fully booked'], PREPARING: ['予約準備中', 'Booking not open yet'],
};

/** The clinic's booking status as the navigator shows it, and what it can do about it. */
export async function reservationStatusScreen(root) {
  const facility = app.user.organization;
  root.append(el('h2', {}, L('予約状況', 'Booking status')),
    el('p', { class: 'muted' }, L('ワクチンナビに表示される予約状況です。vsys で予約を受ける会場は予約枠から自動で計算され、他の方法で予約を受ける会場は自ら申告します(申告が古いと「要確認」と表示されます)。', 'Your status as the navigator shows it. Venues booking in vsys have it computed from their slots; venues booking elsewhere declare it (an old declaration shows as "call to confirm").')));
  const body = el('div', { id: 'status-body' });
  const message = el('div', { id: 'status-message', 'aria-live': 'polite' });
  const load = serialized(async () => {
    const { navigatorSearch } = await api('query($t: String!) { navigatorSearch(text: $t, first: 20) { venues { id name status statusLabel statusLabelEn unconfirmed nextFreeDate freePlaces reservationMode declaredAt statusChangedAt } } }', { t: facility.name });
    const venue = navigatorSearch.venues.find((v) => v.id === facility.id);
    if (!venue) {
      fill(body, notice(L('この医療機関はワクチンナビに掲載されていません。', 'This facility is not published on the navigator.')));
      return;
    }
    const declare = venue.reservationMode === 'EXTERNAL'
      ? el('form', { id: 'declare-form', class: 'card', novalidate: true },
        el('h3', {}, L('予約状況の申告', 'Declare your status')),
        el('div', { class: 'form-grid' },
          el('label', {}, el('span', {}, L('状況', 'Status')), el('select', { id: 'declare-status' }, ...Object.entries(STATUSES).map(([value, names]) => el('option', { value, selected: value === venue.status }, L(...names))))),
          el('label', {}, el('span', {}, L('次の空き日', 'Next free day')), el('input', { id: 'declare-date', type: 'date', value: venue.nextFreeDate ?? '' }))),
        el('button', { type: 'submit' }, L('申告する', 'Declare')))
      : null;
    fill(body,
      el('dl', { class: 'facts', id: 'status-facts' },
        el('dt', {}, L('表示中の状況', 'Shown status')), el('dd', {}, el('span', { class: `badge ${venue.unconfirmed ? 'unconfirmed' : venue.status}`, id: 'status-badge' }, L(venue.statusLabel, venue.statusLabelEn))),
        el('dt', {}, L('次の空き', 'Next free day')), el('dd', {}, venue.nextFreeDate ?? '—'),
        venue.reservationMode === 'VSYS' ? [el('dt', {}, L('空き(4週間)', 'Free places (4 weeks)')), el('dd', {}, number(venue.freePlaces))] : null,
        el('dt', {}, L('最終更新', 'Last updated')), el('dd', {}, when(venue.statusChangedAt ?? venue.declaredAt))),
      declare);
    declare?.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await api('mutation($f: ID!, $s: AvailabilityStatus!, $d: String) { setReservationStatus(facilityId: $f, status: $s, nextAvailableDate: $d) }',
          { f: facility.id, s: declare.querySelector('#declare-status').value, d: declare.querySelector('#declare-date').value || null });
        fill(message, notice(L('予約状況を申告しました。ナビに反映されます。', 'Declared: the navigator shows it now.')));
      } catch (failure) { fill(message, notice(failure.message, 'error')); }
    });
  });
  root.append(message, body);
  // Follow first, then read: whatever changes after the read is heard.
  const stop = app.socket.subscribe('subscription($f: [ID!]) { availabilityChanged(facilityIds: $f) { id } }', { f: [facility.id] }, { next: () => load() });
  await load();
  app.onReconnect = load;
  return stop;
}
