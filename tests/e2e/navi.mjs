// Drives the public navigator (/navi) in headless Chromium against a running demo vsys:
// - a search from the browser's location lists the demo venues nearest first, in the web font
//   the server ships (this machine has no Japanese font);
// - bookings made through the API turn a venue's badge 予約可能 → 若干空き有り → 予約不可能
//   with no reload, and a dropped websocket reconnects and catches up;
// - with a tile server configured (`--map-tile-url`), the venues appear on the map as pins over
//   the tiles; with the tiles unreachable the list still works;
// - English, the notices, statistics that follow a clinic's report live, and a phone-width
//   layout.
// Screenshots go to target/artefacts/navi-*.png.
//
//   node tests/e2e/navi.mjs http://127.0.0.1:8080 /path/to/mail-dir
import { deflateSync } from 'node:zlib';
import { checks, client, launch, signIn, artefactsDir, dayInJapan, strict } from './support.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const mailDir = process.argv[3] ?? 'mail';
const artefacts = artefactsDir();

const { check, failures } = checks();
const graphql = client(base);
const data = strict(graphql);
// 目黒区役所 (Meguro City Office): the demo's Meguro venues lie within 10 km.
const HERE = { latitude: 35.6415, longitude: 139.6982 };
const VENUE = '目黒区特設会場01';



/** A 256-pixel map tile as a PNG: pale land with a grid line at its edges, so tiles show. */
function tilePng() {
  const size = 256;
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, body) => {
    const head = Buffer.alloc(4); head.writeUInt32BE(body.length);
    const tail = Buffer.alloc(4); tail.writeUInt32BE(crc(Buffer.concat([Buffer.from(type), body])));
    return Buffer.concat([head, Buffer.from(type), body, tail]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0); header.writeUInt32BE(size, 4);
  header[8] = 8; header[9] = 2; // 8-bit RGB
  const rows = [];
  for (let y = 0; y < size; y += 1) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x += 1) {
      const edge = x === 0 || y === 0;
      row.set(edge ? [150, 170, 150] : [226, 236, 222], 1 + x * 3);
    }
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

const badgeOf = (page, name) => page.locator('li.venue', { hasText: name }).locator('.badge');

async function waitForBadge(page, name, status, what) {
  try {
    await page.waitForFunction(([n, s]) => [...document.querySelectorAll('li.venue')]
      .some((li) => li.querySelector('h3')?.textContent.includes(n) && li.dataset.status === s), [name, status], { timeout: 15000 });
    check(what, true);
  } catch {
    check(`${what} (the badge says ${await badgeOf(page, name).textContent().catch(() => '?')})`, false);
  }
}

const browser = await launch();
try {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'ja-JP', geolocation: HERE, permissions: ['geolocation'],
  });
  // The map's tiles, when the server names a tile server: served here, no network needed.
  const config = await (await fetch(`${base}/navi/config.json`)).json();
  const tileOrigin = config.mapTileUrl ? new URL(config.mapTileUrl.replace(/[{}]/g, '')).origin : null;
  const tileRequests = [];
  if (tileOrigin) {
    const png = tilePng();
    await context.route(`${tileOrigin}/**`, (route) => { tileRequests.push(route.request().url()); route.fulfill({ status: 200, contentType: 'image/png', body: png }); });
  }
  const page = await context.newPage();
  const pageErrors = [];
  const fontFiles = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.host !== new URL(base).host && url.origin !== tileOrigin) pageErrors.push(`request to ${url.host}`);
  });
  page.on('response', (response) => {
    if (response.url().includes('/assets/fonts/') && response.url().endsWith('.ttf')) fontFiles.push([response.url(), response.status()]);
  });
  await page.goto(`${base}/navi`);
  await page.waitForSelector('#live[data-state="live"]', { timeout: 15000 });
  check('the live indicator shows the websocket is live', (await page.textContent('#live')).includes('ライブ'));

  // Search from the browser's location: nearest first.
  await page.click('#near-me');
  await page.waitForSelector('li.venue', { timeout: 15000 });
  const found = await page.$$eval('li.venue', (items) => items.map((li) => ({ name: li.querySelector('h3').textContent, distance: Number(li.dataset.distance) })));
  check(`the search from here lists the Meguro venues (${found.map((v) => v.name).join(', ')})`, found.length >= 3 && found.some((v) => v.name.includes(VENUE)));
  check('the venues are sorted by distance', found.every((v, i) => i === 0 || found[i - 1].distance <= v.distance));
  check('each venue shows its status, next free day, address and last update',
    await page.locator('li.venue').first().locator('.badge').count() === 1
    && (await page.locator('li.venue').first().textContent()).includes('最終更新'));
  await page.evaluate(() => document.fonts.ready);
  // The faces the page's Japanese needed are loaded (the rare-kanji faces stay unloaded).
  const fontUsed = await page.evaluate(() => [...document.fonts]
    .filter((face) => face.family.replace(/"/g, '') === 'vsys Gothic Web' && face.status === 'loaded').length >= 2);
  check('Japanese renders in the shipped web font', (fontUsed && fontFiles.length > 0 && fontFiles.every(([, status]) => status === 200)) || (console.log(fontUsed, fontFiles), false));
  check('only the kana and common-kanji slices were fetched', fontFiles.every(([url]) => /kana|kanji-common/.test(url)) || (console.log(fontFiles), false));
  if (tileOrigin) {
    // Every venue with a position is a pin on the map, over tiles that loaded.
    await page.waitForFunction(() => [...document.querySelectorAll('#map img.tile')].every((img) => img.complete && img.naturalWidth > 0), null, { timeout: 10000 }).catch(() => {});
    const map = await page.evaluate(() => ({
      visible: !document.getElementById('map-panel').hidden,
      tiles: [...document.querySelectorAll('#map img.tile')].filter((img) => img.naturalWidth > 0).length,
      pins: [...document.querySelectorAll('#map .pin')].map((pin) => pin.title),
      attribution: document.getElementById('map-attribution').textContent,
    }));
    check(`the map shows the venues as pins over the tiles (${map.tiles} tiles, ${map.pins.length} pins)`,
      map.visible && map.tiles > 0 && tileRequests.length > 0 && map.pins.length === found.length && map.pins.some((name) => name.includes(VENUE)));
    check('the map names its tiles\' source', map.attribution === config.mapAttribution && map.attribution.length > 0);
  } else {
    check('with no tile server configured the map stays hidden', await page.isHidden('#map-panel'));
  }
  await page.screenshot({ path: `${artefacts}/navi-search.png`, fullPage: true });

  // The venue opens slots, and bookings fill them: the badge follows without a reload.
  await page.evaluate(() => { window.notReloaded = true; });
  const meguro = await signIn(graphql, mailDir, 'meguro.admin');
  const venueId = (await data('query($t: String!) { navigatorSearch(text: $t) { venues { id } } }', { t: VENUE })).navigatorSearch.venues[0].id;
  await data('mutation($i: ReservationScheduleInput!) { createReservationSlots(input: $i) { created } }', { i: {
    facilityId: venueId, productCode: 'PFIZER', from: dayInJapan(1), to: dayInJapan(1),
    daysOfWeek: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'],
    openingHours: [{ opens: '09:00', closes: '09:30' }], slotMinutes: 30, capacityPerSlot: 6,
  } }, meguro);
  await waitForBadge(page, VENUE, 'BOOKABLE', 'new slots turn the badge to 予約可能 live');
  const slot = (await data('query($f: ID!, $from: String!) { availableSlots(facilityId: $f, from: $from, to: $from, productCode: "PFIZER") { slots { id } } }', { f: venueId, from: dayInJapan(1) }, meguro)).availableSlots.slots[0].id;
  const bookings = [];
  const book = async (n) => {
    const booked = await data('mutation($i: BookReservationInput!) { bookReservation(input: $i) { id } }', { i: {
      facilityId: venueId, slotId: slot, productCode: 'PFIZER', couponMunicipalityCode: '131105',
      couponNumber: String(9000000000 + n), name: `目黒 太郎${n}`, nameKana: 'メグロ タロウ', birthDate: '1950-04-01',
      phone: '03-1234-5678', doseNumber: 1,
    } }, meguro);
    bookings.push(booked.bookReservation.id);
  };
  await book(1);
  await waitForBadge(page, VENUE, 'FEW_LEFT', 'a booking through the API turns it to 若干空き有り without a reload');
  check('the badge reads 若干空き有り', (await badgeOf(page, VENUE).textContent()).includes('若干空き有り'));
  for (let n = 2; n <= 6; n += 1) await book(n);
  await waitForBadge(page, VENUE, 'NOT_BOOKABLE', 'the last place taken turns it to 予約不可能');
  check('the page was not reloaded', await page.evaluate(() => window.notReloaded === true));

  // A dropped connection: the indicator says so, the page reconnects and catches up on a
  // cancellation made meanwhile.
  await page.evaluate(() => window.vsysNavigator.socket.drop());
  await page.waitForSelector('#live[data-state="offline"]', { timeout: 5000 }).then(() => check('a dropped websocket shows as reconnecting', true), () => check('a dropped websocket shows as reconnecting', false));
  await data('mutation($r: ID!) { cancelReservation(reservationId: $r, reason: "e2e") { id } }', { r: bookings[0] }, meguro);
  await page.waitForSelector('#live[data-state="live"]', { timeout: 20000 });
  await waitForBadge(page, VENUE, 'FEW_LEFT', 'after reconnecting, the page shows the cancellation made while it was down');

  // English.
  await page.click('#lang');
  check('the English switch translates the page', (await page.textContent('h1')).includes('navigator') && await page.evaluate(() => document.documentElement.lang) === 'en');
  check('statuses read in English', (await page.locator(`li.venue[data-id="${venueId}"] .badge`).textContent()).includes('few'));
  await page.screenshot({ path: `${artefacts}/navi-english.png`, fullPage: true });
  await page.click('#lang');

  // Notices and FAQ; statistics.
  await page.click('#tab-notices');
  await page.waitForSelector('#notices li', { timeout: 10000 });
  check('the notices and FAQ view opens', await page.isVisible('#view-notices'));
  await page.click('#tab-statistics');
  await page.waitForSelector('#stats-totals .administered', { timeout: 10000 });
  check('the statistics view shows the doses and charts', await page.locator('#chart-cumulative svg').count() === 1 && await page.locator('#chart-coverage li').count() >= 47);
  // A clinic reports doses: the national figure on the open page moves by itself.
  const administered = async () => Number((await page.textContent('#stats-totals .administered')).replace(/\D/g, ''));
  const before = await administered();
  const hospital = await signIn(graphql, mailDir, 'meguro-hospital.admin');
  // A medical institution accepts the personal-information policy before it reports (the work
  // screens' test may have accepted it already on this server).
  await graphql('mutation { acceptPrivacyPolicy { id } }', {}, hospital);
  const hospitalId = (await data('query($t: String!) { navigatorSearch(text: $t) { venues { id } } }', { t: '目黒区病院01' })).navigatorSearch.venues[0].id;
  await data('mutation($f: ID!) { reportVaccinations(input: { facilityId: $f, productCode: "PFIZER", figures: [{ doseNumber: 1, category: HEALTHCARE_WORKER, administered: 1234 }] }) { administered } }', { f: hospitalId }, hospital);
  // Reports are cumulative: the figure replaces the clinic's last one (the work screens' test
  // may have reported before), so the national total moves, by however much.
  await page.waitForFunction((b) => Number(document.querySelector('#stats-totals .administered').textContent.replace(/\D/g, '')) !== b, before, { timeout: 15000 })
    .then(() => check('a vaccination report updates the statistics live', true), async () => check(`a vaccination report updates the statistics live (${before} → ${await administered()})`, false));
  await page.screenshot({ path: `${artefacts}/navi-statistics.png`, fullPage: true });

  // The out-of-area notification: a missing field is named; the API's refusal is shown; a
  // complete form gets a receipt number.
  await page.click('#tab-notify');
  await page.click('#notify-submit');
  check('an empty notification names what is missing', (await page.textContent('#notify-error')).includes('接種券番号'));
  await page.selectOption('#notify-prefecture', { label: '神奈川県' });
  await page.waitForFunction(() => document.querySelectorAll('#notify-municipality option').length > 1, null, { timeout: 10000 });
  await page.selectOption('#notify-municipality', { label: '横浜市' });
  await page.fill('#notify-coupon-municipality', '131105');
  await page.fill('#notify-coupon', '12345');
  await page.fill('#notify-name', '目黒 花子');
  await page.fill('#notify-kana', 'メグロ ハナコ');
  await page.fill('#notify-birth', '1950-04-01');
  await page.fill('#notify-phone', '03-1234-5678');
  await page.fill('#notify-reason', '単身赴任のため');
  await page.click('#notify-submit');
  await page.waitForSelector('#notify-error:not([hidden])', { timeout: 10000 });
  check('a bad coupon number is refused with the API\'s message', /10/.test(await page.textContent('#notify-error')));
  await page.fill('#notify-coupon', '0000000777');
  await page.click('#notify-submit');
  await page.waitForFunction(() => /受付番号: [0-9A-F]{4}-[0-9A-F]{4}/.test(document.getElementById('notify-done').textContent), null, { timeout: 10000 })
    .then(() => check('a complete notification gets a receipt number', true), async () => check(`a complete notification gets a receipt number (${await page.textContent('#notify-error')})`, false));
  await page.screenshot({ path: `${artefacts}/navi-notify.png`, fullPage: true });

  // A phone.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'ja-JP' });
  // Here the tile server is unreachable: the list works all the same.
  if (tileOrigin) await phone.route(`${tileOrigin}/**`, (route) => route.abort());
  const small = await phone.newPage();
  small.on('pageerror', (error) => pageErrors.push(error.message));
  await small.goto(`${base}/navi`);
  await small.fill('#text', '目黒');
  await small.click('#search');
  await small.waitForSelector('li.venue', { timeout: 15000 });
  check('with the tiles unreachable the list still shows the venues', await small.locator('li.venue').count() >= 3);
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(`nothing overflows a phone-width screen (${overflow}px)`, overflow <= 1);
  const labelled = await small.evaluate(() => [...document.querySelectorAll('input, select')].every((c) => c.closest('label') || c.getAttribute('aria-label')));
  check('every field has a label', labelled);
  await small.screenshot({ path: `${artefacts}/navi-phone.png`, fullPage: true });
  await phone.close();

  check('no script errors and no requests to other hosts', pageErrors.length === 0 || (console.log(pageErrors), false));
} catch (error) {
  check(error.stack ?? error.message, false);
} finally {
  await browser.close();
}
console.log(`navigator: ${failures() === 0 ? 'all checks passed' : `${failures()} failed`}`);
process.exit(failures() === 0 ? 0 : 1);
