// The public navigator (/navi): find a vaccination venue and see its booking status live.
// Uses only the public GraphQL API: navigatorSearch to search, availabilityChanged over the
// websocket to keep the shown badges current, and a fresh search after a reconnect to catch
// up on what changed while the socket was down.
import { graphql, LiveSocket } from '/web/shared/live.js';
import { el } from '/web/shared/dom.js';
import { seriesChart, barList } from '/web/shared/chart.js';

const TEXT = {
  ja: {
    skip: '本文へ移動', title: 'ワクチン接種会場ナビ', subtitle: '新型コロナワクチンの接種会場と予約の空き状況',
    sections: 'ページ', tabSearch: '会場を探す', tabNotices: 'お知らせ・よくある質問', tabStatistics: '接種状況',
    nearMe: '現在地から探す', postalCode: '郵便番号', prefecture: '都道府県', municipality: '市区町村',
    choose: '選択してください', freeText: '会場名・住所', freeTextHint: '例: 目黒', vaccine: 'ワクチン', any: '指定なし',
    from: '接種希望日(から)', generalOnly: '一般の方を受け入れる会場のみ', search: '検索', clear: '条件をクリア',
    legend: '表示の「要確認」は、会場の申告が古いため電話でご確認ください。',
    notices: 'お知らせ', faq: 'よくある質問', statistics: '接種状況',
    statisticsNote: 'ワクチン接種記録に基づく接種回数(報告のたびに更新されます)。', area: '地域', nation: '全国',
    cumulativeChart: '累計接種回数', dailyChart: '日別接種回数', coverageChart: '都道府県別の接種率(1回目)',
    footer: 'このページは vsys の公開 API だけで動いています。', fontLicence: 'フォントのライセンス',
    mapLabel: '会場の地図',
    live: 'ライブ更新中', connecting: '接続中', offline: '再接続しています',
    locating: '現在地を確認しています…', located: '現在地から近い順に表示します', locationDenied: '現在地を取得できませんでした。郵便番号や市区町村で探してください。',
    noLocation: 'このブラウザでは現在地を使えません。',
    badPostal: '郵便番号は7桁の数字で入力してください(例: 153-8573)。', needCondition: '検索条件を1つ以上指定してください。',
    searching: '検索しています…', found: (n, more) => `${n}件の会場${more ? '(さらにあります。条件を絞り込んでください)' : ''}`,
    none: '条件に合う会場は見つかりませんでした。', nextFree: '次の空き', noFree: '空きなし', freePlaces: '空き',
    places: (n) => `${n}人分`, distance: '距離', address: '住所', phone: '電話', access: 'アクセス', parking: '駐車場',
    vaccines: 'ワクチン', hours: '受付時間', updated: '最終更新', notUpdated: '更新記録なし',
    generalAcceptance: '一般の方の接種', yes: '受け入れ', no: '受け入れなし', booking: '予約方法',
    modes: { VSYS: 'vsys で予約', EXTERNAL: '会場・自治体の予約窓口', NONE: '予約不要' },
    justChanged: '更新されました', noNotices: '現在お知らせはありません。', noFaqs: 'よくある質問はまだありません。',
    administered: '接種回数(累計)', dose: (n) => `${n}回目`, ofPopulation: '人口比', error: 'エラー',
    call: '電話で確認',
    tabNotify: '住所地外接種の届出', notifyTitle: '住所地外接種の届出',
    notifyIntro: '住民票のある市区町村の外で接種を受ける方は、接種を受ける市区町村に届け出てください。市区町村が受理すると、その市区町村の会場で予約できます。',
    notifyPrefecture: '接種を受ける都道府県', notifyMunicipality: '接種を受ける市区町村',
    couponMunicipality: '接種券を発行した市区町村コード(6桁)', couponNumber: '接種券番号(10桁)', name: '氏名',
    nameKana: '氏名(カナ)', birthDate: '生年月日', phone: '電話番号', reason: '理由(例: 単身赴任、入院)',
    notifySubmit: '届け出る', notifySending: '送信しています…',
    notifyMissing: '未入力の項目があります: ', notifyDone: (id) => `届出を受け付けました。受付番号: ${id}。市区町村が確認して受理または返戻します。`,
  },
  en: {
    skip: 'Skip to content', title: 'Vaccination site navigator', subtitle: 'COVID-19 vaccination sites and free booking places',
    sections: 'Sections', tabSearch: 'Find a site', tabNotices: 'Notices and FAQ', tabStatistics: 'Statistics',
    nearMe: 'Near my location', postalCode: 'Postal code', prefecture: 'Prefecture', municipality: 'Municipality',
    choose: 'Choose', freeText: 'Name or address', freeTextHint: 'e.g. Meguro', vaccine: 'Vaccine', any: 'Any',
    from: 'Vaccination from', generalOnly: 'Only sites open to the general public', search: 'Search', clear: 'Clear',
    legend: '"Call to confirm": the site\'s own report is old; please call before you go.',
    notices: 'Notices', faq: 'Frequently asked questions', statistics: 'Statistics',
    statisticsNote: 'Doses given, from the vaccination reports (updated as reports arrive).', area: 'Area', nation: 'Japan',
    cumulativeChart: 'Doses given (cumulative)', dailyChart: 'Doses per day', coverageChart: 'First-dose coverage by prefecture',
    footer: 'This page uses only the public API of vsys.', fontLicence: 'Font licence',
    mapLabel: 'Map of the sites',
    live: 'Live', connecting: 'Connecting', offline: 'Reconnecting',
    locating: 'Finding your location…', located: 'Nearest first, from your location', locationDenied: 'Your location is not available. Search by postal code or municipality.',
    noLocation: 'This browser cannot share a location.',
    badPostal: 'Enter the postal code as 7 digits (e.g. 153-8573).', needCondition: 'Give at least one search condition.',
    searching: 'Searching…', found: (n, more) => `${n} site${n === 1 ? '' : 's'}${more ? ' (more match: narrow the search)' : ''}`,
    none: 'No site matches.', nextFree: 'Next free day', noFree: 'No free place', freePlaces: 'Free',
    places: (n) => `${n} place${n === 1 ? '' : 's'}`, distance: 'Distance', address: 'Address', phone: 'Phone', access: 'Access', parking: 'Parking',
    vaccines: 'Vaccines', hours: 'Hours', updated: 'Last updated', notUpdated: 'No update recorded',
    generalAcceptance: 'General public', yes: 'Accepted', no: 'Not accepted', booking: 'Booking',
    modes: { VSYS: 'Book in vsys', EXTERNAL: 'Through the site or municipality', NONE: 'No booking needed' },
    justChanged: 'Updated', noNotices: 'No notices at the moment.', noFaqs: 'No questions yet.',
    administered: 'Doses given (cumulative)', dose: (n) => `Dose ${n}`, ofPopulation: 'of population', error: 'Error',
    call: 'Call to confirm',
    tabNotify: 'Out-of-area notification', notifyTitle: 'Out-of-area vaccination notification',
    notifyIntro: 'If you will be vaccinated outside the municipality where you are registered, notify the municipality where you will be vaccinated. Once it accepts, you can book at its sites.',
    notifyPrefecture: 'Prefecture of vaccination', notifyMunicipality: 'Municipality of vaccination',
    couponMunicipality: 'Code of the municipality that issued the coupon (6 digits)', couponNumber: 'Coupon number (10 digits)', name: 'Name',
    nameKana: 'Name in katakana', birthDate: 'Date of birth', phone: 'Phone', reason: 'Reason (e.g. working away from home, a hospital stay)',
    notifySubmit: 'Send', notifySending: 'Sending…',
    notifyMissing: 'Please fill in: ', notifyDone: (id) => `Received. Your receipt number: ${id}. The municipality will accept or return it.`,
  },
};

const VENUE_FIELDS = `id code name nameKana nameRomaji postalCode address phone accessNotes parkingNotes
  openingHours vaccines generalAcceptance latitude longitude distanceKm municipalityId reservationMode
  status statusLabel statusLabelEn unconfirmed nextFreeDate freePlaces statusChangedAt declaredAt`;
const SEARCH = `query Search($near: GeoPointInput, $municipalityId: ID, $postalCode: String, $text: String,
  $productCode: String, $from: String, $general: Boolean!) {
  navigatorSearch(near: $near, municipalityId: $municipalityId, postalCode: $postalCode, text: $text,
    productCode: $productCode, from: $from, generalPublicOnly: $general, first: 50) {
    truncated venues { ${VENUE_FIELDS} } } }`;
const LIVE = `subscription Live($ids: [ID!]) { availabilityChanged(facilityIds: $ids) { ${VENUE_FIELDS} } }`;

const state = {
  lang: initialLanguage(),
  near: null,
  venues: [],
  lastSearch: null,
  stopLive: null,
  statsStop: null,
  config: { mapTileUrl: null, mapAttribution: '' },
  liveState: 'connecting',
};

function initialLanguage() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'en' || asked === 'ja') return asked;
  try { return localStorage.getItem('vsys.lang') === 'en' ? 'en' : 'ja'; } catch { return 'ja'; }
}

const t = (key) => TEXT[state.lang][key] ?? TEXT.ja[key] ?? key;
const $ = (id) => document.getElementById(id);

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = `${t('title')} | vsys`;
  for (const node of document.querySelectorAll('[data-t]')) node.textContent = t(node.dataset.t);
  for (const node of document.querySelectorAll('[data-t-placeholder]')) node.placeholder = t(node.dataset.tPlaceholder);
  for (const node of document.querySelectorAll('[data-t-aria]')) node.setAttribute('aria-label', t(node.dataset.tAria));
  const other = state.lang === 'ja' ? { text: 'English', lang: 'en' } : { text: '日本語', lang: 'ja' };
  $('lang').textContent = other.text;
  $('lang').lang = other.lang;
  $('lang').setAttribute('aria-label', other.lang === 'en' ? 'English' : '日本語');
  showLive(state.liveState);
  for (const option of $('prefecture').options) if (option.dataset.ja) option.textContent = label(option.dataset);
  for (const option of $('municipality').options) if (option.dataset.ja) option.textContent = label(option.dataset);
  for (const id of ['stats-area', 'notify-prefecture', 'notify-municipality']) {
    for (const option of $(id).options) if (option.dataset.ja) option.textContent = label(option.dataset);
  }
  renderResults();
  if (!$('view-notices').hidden) loadNotices();
  if (!$('view-statistics').hidden) loadStatistics();
}

const label = ({ ja, en }) => (state.lang === 'en' && en ? en : ja);

function showLive(live) {
  state.liveState = live;
  const node = $('live');
  const key = live === 'live' ? 'live' : live === 'connecting' ? 'connecting' : 'offline';
  node.className = `live live-${live === 'live' ? 'on' : live === 'connecting' ? 'connecting' : 'offline'}`;
  node.dataset.state = live;
  node.dataset.t = key;
  node.textContent = t(key);
}

// ---------------------------------------------------------------- search form

async function loadChoices() {
  const [prefectures, products] = await Promise.all([
    graphql('{ prefectures(first: 47) { edges { node { id code name nameRomaji } } } }'),
    graphql('{ products(kind: VACCINE) { code name } }'),
  ]);
  for (const { node } of prefectures.prefectures.edges) {
    const option = el('option', { value: node.code, 'data-ja': node.name, 'data-en': node.nameRomaji ?? '' });
    option.textContent = label(option.dataset);
    $('prefecture').append(option);
    $('stats-area').append(option.cloneNode(true));
    $('notify-prefecture').append(option.cloneNode(true));
  }
  for (const product of products.products) $('vaccine').append(el('option', { value: product.code, text: product.name }));
}

/** Fills a municipality list with a prefecture's municipalities (values: `valueOf(node)`). */
async function loadMunicipalities(prefectureCode, select = $('municipality'), valueOf = (node) => node.id) {
  select.replaceChildren(el('option', { value: '', 'data-t': 'choose', text: t('choose') }));
  select.disabled = !prefectureCode;
  if (!prefectureCode) return;
  let after = null;
  do {
    const data = await graphql(
      'query($p: String!, $after: String) { municipalities(prefectureCode: $p, first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id code name nameRomaji } } } }',
      { p: prefectureCode, after },
    );
    for (const { node } of data.municipalities.edges) {
      const option = el('option', { value: valueOf(node), 'data-ja': node.name, 'data-en': node.nameRomaji ?? '' });
      option.textContent = label(option.dataset);
      select.append(option);
    }
    after = data.municipalities.pageInfo.hasNextPage ? data.municipalities.pageInfo.endCursor : null;
  } while (after);
}

function searchVariables() {
  const variables = { general: $('general').checked };
  const postal = $('postal').value.replace(/[-－ー\s]/g, '').replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  if (postal) {
    if (!/^\d{7}$/.test(postal)) throw new Error(t('badPostal'));
    variables.postalCode = postal;
  }
  if ($('municipality').value) variables.municipalityId = $('municipality').value;
  if ($('text').value.trim()) variables.text = $('text').value.trim();
  if ($('vaccine').value) variables.productCode = $('vaccine').value;
  if ($('from').value) variables.from = $('from').value;
  if (state.near) variables.near = state.near;
  if (!variables.postalCode && !variables.municipalityId && !variables.text && !variables.near) throw new Error(t('needCondition'));
  return variables;
}

async function search(variables, { quiet = false } = {}) {
  const error = $('search-error');
  error.hidden = true;
  if (!quiet) $('result-summary').textContent = t('searching');
  try {
    const data = await graphql(SEARCH, variables);
    state.lastSearch = variables;
    state.venues = data.navigatorSearch.venues;
    state.truncated = data.navigatorSearch.truncated;
    state.searched = true;
    renderResults();
    watchVenues();
  } catch (failure) {
    $('result-summary').textContent = '';
    error.textContent = `${t('error')}: ${failure.message}`;
    error.hidden = false;
  }
}

// ---------------------------------------------------------------- results

function statusLabel(venue) {
  return state.lang === 'en' ? venue.statusLabelEn : venue.statusLabel;
}

function formatTime(iso) {
  if (!iso) return t('notUpdated');
  return new Date(iso).toLocaleString(state.lang === 'en' ? 'en-GB' : 'ja-JP', {
    timeZone: 'Asia/Tokyo', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

function formatDate(date) {
  if (!date) return t('noFree');
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(state.lang === 'en' ? 'en-GB' : 'ja-JP', {
    timeZone: 'UTC', month: 'short', day: 'numeric', weekday: 'short',
  });
}

function venueCard(venue) {
  const name = state.lang === 'en' && venue.nameRomaji ? venue.nameRomaji : venue.name;
  const detail = (key, value) => (value ? [el('dt', { text: t(key) }), el('dd', {}, value)] : []);
  const lastUpdated = venue.statusChangedAt ?? venue.declaredAt;
  return el('li', { class: 'venue', 'data-id': venue.id, 'data-status': venue.status, 'data-distance': venue.distanceKm ?? undefined },
    el('div', { class: 'venue-head' },
      el('h3', {}, name, venue.nameKana && state.lang === 'ja' ? el('span', { class: 'kana', text: ` ${venue.nameKana}` }) : null),
      el('span', { class: `badge ${venue.unconfirmed ? 'unconfirmed' : venue.status}`, 'data-status': venue.status }, statusLabel(venue)),
    ),
    el('p', { class: 'venue-facts' },
      el('span', {}, `${t('nextFree')}: `, el('strong', { class: 'next-free' }, formatDate(venue.nextFreeDate))),
      venue.reservationMode === 'VSYS' ? el('span', {}, `${t('freePlaces')}: `, el('strong', { class: 'free-places' }, TEXT[state.lang].places(venue.freePlaces))) : null,
      venue.distanceKm !== null && venue.distanceKm !== undefined ? el('span', { class: 'distance' }, `${t('distance')}: ${venue.distanceKm.toFixed(1)} km`) : null,
    ),
    el('dl', { class: 'venue-details' },
      detail('address', [venue.postalCode ? `〒${venue.postalCode} ` : '', venue.address ?? '']),
      detail('phone', venue.phone ? el('a', { href: `tel:${venue.phone.replace(/[^\d+]/g, '')}` }, venue.phone) : null),
      detail('access', venue.accessNotes),
      detail('parking', venue.parkingNotes),
      detail('vaccines', venue.vaccines.join(', ')),
      detail('hours', venue.openingHours),
      detail('booking', TEXT[state.lang].modes[venue.reservationMode] ?? venue.reservationMode),
      detail('generalAcceptance', venue.generalAcceptance ? t('yes') : t('no')),
      detail('updated', el('time', { class: 'updated', datetime: lastUpdated ?? undefined }, formatTime(lastUpdated))),
    ),
  );
}

function renderResults() {
  const list = $('results');
  if (!state.searched) return;
  $('result-summary').textContent = state.venues.length ? TEXT[state.lang].found(state.venues.length, state.truncated) : t('none');
  list.replaceChildren(...state.venues.map(venueCard));
  drawMap();
}

/** Follows the shown venues' availability; replaces a card in place when it changes. */
function watchVenues() {
  state.stopLive?.();
  state.stopLive = null;
  const ids = state.venues.map((v) => v.id).slice(0, 100);
  if (!ids.length) return;
  state.stopLive = socket.subscribe(LIVE, { ids }, {
    next: (data) => {
      const changed = data.availabilityChanged;
      const index = state.venues.findIndex((v) => v.id === changed.id);
      if (index < 0) return;
      // The subscription knows no searched point: keep the distance.
      state.venues[index] = { ...changed, distanceKm: state.venues[index].distanceKm };
      const card = venueCard(state.venues[index]);
      card.classList.add('changed');
      card.setAttribute('aria-label', `${t('justChanged')}: ${changed.name}`);
      const old = document.querySelector(`li.venue[data-id="${CSS.escape(changed.id)}"]`);
      old?.replaceWith(card);
      drawMap();
    },
    error: () => showLive('offline'),
  });
}

// ---------------------------------------------------------------- map (when tiles are configured)

const TILE = 256;
function project(lat, lon, zoom) {
  const scale = TILE * 2 ** zoom;
  const x = ((lon + 180) / 360) * scale;
  const s = Math.sin((lat * Math.PI) / 180);
  const y = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale;
  return { x, y };
}

function drawMap() {
  const panel = $('map-panel');
  const placed = state.venues.filter((v) => v.latitude !== null && v.longitude !== null);
  if (!state.config.mapTileUrl || !placed.length) { panel.hidden = true; return; }
  panel.hidden = false;
  const map = $('map');
  const width = map.clientWidth || 600;
  const height = map.clientHeight || 320;
  const lats = placed.map((v) => v.latitude);
  const lons = placed.map((v) => v.longitude);
  const centre = { lat: (Math.min(...lats) + Math.max(...lats)) / 2, lon: (Math.min(...lons) + Math.max(...lons)) / 2 };
  let zoom = 16;
  while (zoom > 5) {
    const a = project(Math.max(...lats), Math.min(...lons), zoom);
    const b = project(Math.min(...lats), Math.max(...lons), zoom);
    if (b.x - a.x < width - 60 && b.y - a.y < height - 60) break;
    zoom -= 1;
  }
  const c = project(centre.lat, centre.lon, zoom);
  const left = c.x - width / 2;
  const top = c.y - height / 2;
  const nodes = [];
  for (let tx = Math.floor(left / TILE); tx <= Math.floor((left + width) / TILE); tx += 1) {
    for (let ty = Math.floor(top / TILE); ty <= Math.floor((top + height) / TILE); ty += 1) {
      const url = state.config.mapTileUrl.replace('{z}', zoom).replace('{x}', tx).replace('{y}', ty);
      nodes.push(el('img', { class: 'tile', src: url, alt: '', style: undefined, width: TILE, height: TILE, 'data-x': tx * TILE - left, 'data-y': ty * TILE - top }));
    }
  }
  placed.forEach((venue, i) => {
    const p = project(venue.latitude, venue.longitude, zoom);
    nodes.push(el('span', { class: `pin ${venue.status}`, title: venue.name, 'data-x': p.x - left, 'data-y': p.y - top }, String(i + 1)));
  });
  map.replaceChildren(...nodes);
  // Positions through the CSS object model: the page's policy allows no inline style attribute.
  for (const node of map.children) {
    node.style.left = `${node.dataset.x}px`;
    node.style.top = `${node.dataset.y}px`;
  }
  $('map-attribution').textContent = state.config.mapAttribution;
}

// ---------------------------------------------------------------- notices and FAQ

async function loadNotices() {
  try {
    const data = await graphql('{ notices(first: 20) { id titleJa titleEn bodyJa bodyEn publishedAt } faqs { id category questionJa questionEn answerJa answerEn } }');
    const en = state.lang === 'en';
    $('notices').replaceChildren(...(data.notices.length ? data.notices.map((n) => el('li', {},
      el('h3', {}, en ? n.titleEn : n.titleJa), el('p', { class: 'muted' }, formatTime(n.publishedAt)), el('p', {}, en ? n.bodyEn : n.bodyJa))) : [el('li', { class: 'muted', text: t('noNotices') })]));
    const byCategory = new Map();
    for (const faq of data.faqs) {
      if (!byCategory.has(faq.category)) byCategory.set(faq.category, []);
      byCategory.get(faq.category).push(faq);
    }
    const groups = [...byCategory].map(([category, faqs]) => el('section', { class: 'faq-group' }, el('h3', { text: category }),
      ...faqs.map((f) => el('details', {}, el('summary', {}, en ? f.questionEn : f.questionJa), el('p', {}, en ? f.answerEn : f.answerJa)))));
    $('faqs').replaceChildren(...(groups.length ? groups : [el('p', { class: 'muted', text: t('noFaqs') })]));
  } catch (failure) {
    $('notices').replaceChildren(el('li', { class: 'error', text: `${t('error')}: ${failure.message}` }));
  }
}

// ---------------------------------------------------------------- statistics

let statsTimer = null;
async function loadStatistics() {
  const prefectureCode = $('stats-area').value || null;
  try {
    const data = await graphql(
      'query($p: String) { vaccinationStatistics(prefectureCode: $p) { area { areaName administered population doses { doseNumber administered percentOfPopulation } } days { date daily cumulative } } vaccinationCoverage { areaCode areaName administered doses { doseNumber percentOfPopulation } } }',
      { p: prefectureCode },
    );
    const { area, days } = data.vaccinationStatistics;
    $('stats-totals').replaceChildren(
      el('p', {}, el('strong', { text: area.areaName }), ` ${t('administered')}: `, el('strong', { class: 'administered', text: area.administered.toLocaleString() })),
      el('ul', { class: 'doses' }, ...area.doses.map((d) => el('li', {}, `${TEXT[state.lang].dose(d.doseNumber)}: ${d.administered.toLocaleString()}`,
        d.percentOfPopulation !== null ? ` (${t('ofPopulation')} ${d.percentOfPopulation.toFixed(1)}%)` : ''))),
    );
    $('chart-cumulative').replaceChildren(...seriesChart(days.map((d) => ({ label: d.date, value: d.cumulative })), 'line', t('cumulativeChart')));
    $('chart-daily').replaceChildren(...seriesChart(days.map((d) => ({ label: d.date, value: d.daily })), 'bars', t('dailyChart')));
    const prefectures = data.vaccinationCoverage.filter((a) => a.areaCode);
    $('chart-coverage').replaceChildren(barList(prefectures.map((a) => {
      const first = a.doses.find((d) => d.doseNumber === 1);
      const percent = first?.percentOfPopulation ?? 0;
      return { label: a.areaName, value: percent, text: `${percent.toFixed(1)}%` };
    })));
  } catch (failure) {
    $('stats-totals').replaceChildren(el('p', { class: 'error', text: `${t('error')}: ${failure.message}` }));
  }
}

function watchStatistics() {
  state.statsStop?.();
  const prefectureCode = $('stats-area').value || null;
  state.statsStop = socket.subscribe('subscription($p: String) { statisticsUpdated(prefectureCode: $p) { updatedAt } }', { p: prefectureCode }, {
    next: () => { clearTimeout(statsTimer); statsTimer = setTimeout(loadStatistics, 300); },
  });
}

// ---------------------------------------------------------------- out-of-area notification

const NOTIFY = `mutation Notify($to: String!, $input: ResidentRequestInput!) {
  submitOutOfAreaNotification(destinationMunicipalityCode: $to, input: $input) { id reference status } }`;

async function submitNotification(event) {
  event.preventDefault();
  const error = $('notify-error');
  const done = $('notify-done');
  error.hidden = true;
  done.hidden = true;
  const fields = {
    to: 'notify-municipality', couponMunicipalityCode: 'notify-coupon-municipality', couponNumber: 'notify-coupon',
    name: 'notify-name', nameKana: 'notify-kana', birthDate: 'notify-birth', phone: 'notify-phone', reason: 'notify-reason',
  };
  const missing = Object.values(fields).filter((id) => !$(id).value.trim());
  for (const id of Object.values(fields)) $(id).setAttribute('aria-invalid', String(missing.includes(id)));
  if (missing.length) {
    error.textContent = t('notifyMissing') + missing.map((id) => $(id).closest('label').querySelector('span').textContent).join('、');
    error.hidden = false;
    $(missing[0]).focus();
    return;
  }
  const value = (key) => $(fields[key]).value.trim();
  $('notify-submit').disabled = true;
  done.textContent = t('notifySending');
  done.hidden = false;
  try {
    const data = await graphql(NOTIFY, {
      to: value('to'),
      input: {
        couponMunicipalityCode: value('couponMunicipalityCode'), couponNumber: value('couponNumber'), name: value('name'),
        nameKana: value('nameKana'), birthDate: value('birthDate'), phone: value('phone'), reason: value('reason'),
      },
    });
    done.textContent = TEXT[state.lang].notifyDone(data.submitOutOfAreaNotification.reference);
    $('notify-form').reset();
  } catch (failure) {
    done.hidden = true;
    error.textContent = `${t('error')}: ${failure.message}`;
    error.hidden = false;
  } finally {
    $('notify-submit').disabled = false;
  }
}

// ---------------------------------------------------------------- views and start

const VIEWS = ['search', 'notices', 'statistics', 'notify'];
function showView() {
  const view = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'search';
  for (const name of VIEWS) {
    $(`view-${name}`).hidden = name !== view;
    if (name === view) $(`tab-${name}`).setAttribute('aria-current', 'page');
    else $(`tab-${name}`).removeAttribute('aria-current');
  }
  if (view === 'notices') loadNotices();
  if (view === 'statistics') { loadStatistics(); watchStatistics(); } else { state.statsStop?.(); state.statsStop = null; }
}

const socket = new LiveSocket({
  onState: showLive,
  // Updates sent while the socket was down are gone: search again for the current state.
  onReconnect: () => {
    if (state.lastSearch) search(state.lastSearch, { quiet: true });
    if (!$('view-statistics').hidden) loadStatistics();
  },
});
window.vsysNavigator = { socket, state };

$('lang').addEventListener('click', () => {
  state.lang = state.lang === 'ja' ? 'en' : 'ja';
  try { localStorage.setItem('vsys.lang', state.lang); } catch { /* private mode */ }
  applyLanguage();
});
$('prefecture').addEventListener('change', () => loadMunicipalities($('prefecture').value).catch(() => {}));
$('stats-area').addEventListener('change', () => { loadStatistics(); watchStatistics(); });
$('search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  try {
    search(searchVariables());
  } catch (failure) {
    $('search-error').textContent = failure.message;
    $('search-error').hidden = false;
  }
});
$('clear').addEventListener('click', () => {
  $('search-form').reset();
  state.near = null;
  delete $('near-status').dataset.t;
  $('near-status').textContent = '';
  loadMunicipalities('');
});
$('near-me').addEventListener('click', () => {
  const say = (key) => { $('near-status').dataset.t = key; $('near-status').textContent = t(key); };
  if (!navigator.geolocation) { say('noLocation'); return; }
  say('locating');
  navigator.geolocation.getCurrentPosition((position) => {
    state.near = { latitude: position.coords.latitude, longitude: position.coords.longitude };
    say('located');
    search(searchVariables());
  }, () => say('locationDenied'), { timeout: 10000, maximumAge: 60000 });
});
$('notify-prefecture').addEventListener('change', () => loadMunicipalities($('notify-prefecture').value, $('notify-municipality'), (node) => node.code).catch(() => {}));
$('notify-form').addEventListener('submit', submitNotification);
window.addEventListener('hashchange', showView);

applyLanguage();
showView();
loadChoices().catch((failure) => { $('search-error').textContent = failure.message; $('search-error').hidden = false; });
fetch('/navi/config.json').then((r) => r.json()).then((config) => { state.config = config; drawMap(); }).catch(() => {});
