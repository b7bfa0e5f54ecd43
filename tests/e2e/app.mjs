// Drives the work screens (/app) in headless Chromium against a running demo vsys, through
// the seed's worked example (cool 1: Tokyo 160 / 1,560 / 1,560 boxes, Meguro 5 / 49 / 49,
// Meguro Hospital 01 1 / 10 / 10):
// - Meguro's officer signs in with the e-mailed code, confirms what Meguro received, simulates
//   and stores a proposal, sets its hospital's lines by hand and completes;
// - Tokyo's officer sees the 〇/X table, completes, and locks with the button once it says why
//   the lock is allowed; Meguro's open screen shows the data lock arrive live;
// - Meguro Hospital 01 signs in, accepts the privacy policy, sees its 1 box (975 doses), and
//   sees its delivery date arrive live when the wholesaler registers it on its screen; the
//   page's help comes from the knowledge base;
// - the call centre finds a free slot, books a resident by coupon, and cancels;
// - the idle warning counts down and "stay signed in" keeps the session; idleness signs out;
// - a user enrols an authenticator app (TOTP) and signs in with it;
// - before any cool exists, every screen of the roles that work per cool opens without error.
// Screenshots go to target/artefacts/app-*.png.
//
//   node tests/e2e/app.mjs http://127.0.0.1:8080 /path/to/mail-dir
import { createHmac } from 'node:crypto';
import { checks, client, launch, mailsNow, signIn, waitForMail, DEMO_PASSWORD, CODE, artefactsDir, dayInJapan, strict } from './support.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const mailDir = process.argv[3] ?? 'mail';
const artefacts = artefactsDir();

const { check, failures } = checks();
const graphql = client(base);
const data = strict(graphql);


/** A demo user signed in through the API, with the privacy policy accepted. */
async function apiUser(username) {
  const token = await signIn(graphql, mailDir, username);
  await graphql('mutation { acceptPrivacyPolicy { id } }', {}, token);
  return token;
}

const SET = 'mutation($c: ID!, $r: ID!, $p: String, $b: Int!) { setAllocation(input: { coolId: $c, recipientId: $r, productCode: $p, boxes: $b }) { boxes } }';
async function setThree(token, cool, recipient, boxes) {
  for (const [product, n] of [['PFIZER', boxes[0]], ['NEEDLE', boxes[1]], ['SYRINGE', boxes[2]]]) {
    await data(SET, { c: cool, r: recipient, p: product, b: n }, token);
  }
}

/** Signs in on the page with the password and the code from the mail folder. */
async function uiSignIn(page, username) {
  await page.goto(`${base}/app`);
  await page.waitForSelector('#username');
  const since = mailsNow(mailDir);
  await page.fill('#username', username);
  await page.fill('#password', DEMO_PASSWORD);
  await page.click('#sign-in button[type="submit"]');
  await page.waitForSelector('#code', { timeout: 30000 });
  const [, code] = await waitForMail(mailDir, `${username}@demo.vsys.invalid`, since, CODE);
  await page.fill('#code', code);
  await page.click('#second-factor button[type="submit"]');
  // Signed in: the menu shows, or what must be done first (the privacy policy).
  await page.waitForSelector('#nav:not([hidden]), #privacy-policy, #password-change', { timeout: 30000 });
}

/** The TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) of a base32 secret, `steps` from now. */
function totp(secret, steps = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + steps));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}


const browser = await launch();
const pageErrors = [];
async function newPage(width = 1280, height = 900) {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'ja-JP' });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.host !== new URL(base).host) pageErrors.push(`request to ${url.host}`);
  });
  return page;
}

try {
  // Before any cool is opened, every screen of the roles that work per cool says so; none fails.
  const failed = [];
  for (const username of ['nation.admin', 'tokyo.admin', 'wholesaler.admin', 'pfizer.admin', 'dryice.admin']) {
    const page = await newPage();
    await uiSignIn(page, username);
    for (const screen of await page.$$eval('#nav a[id^="nav-"]', (links) => links.map((a) => a.id))) {
      await page.click(`#${screen}`);
      await page.waitForSelector(`#screen-${screen.slice(4)}[data-mounted]`, { timeout: 30000 });
      const errors = await page.$$eval('main .error', (nodes) => nodes.map((n) => n.textContent).filter(Boolean));
      if (errors.length) failed.push(`${username} ${screen}: ${errors.join(' / ')}`);
    }
    await page.context().close();
  }
  check(`with no cool yet, every screen opens without an error${failed.length ? ` (${failed.join('; ')})` : ''}`, failed.length === 0);

  // The stages above Meguro, through the API as the nation, the manufacturer and the warehouse would.
  const nation = await apiUser('nation.admin');
  const opened = await graphql('mutation { openCool(input: { number: 1, productCode: "PFIZER", startsOn: "2021-05-10" }) { id } }', {}, nation);
  const cool = opened.data?.openCool?.id ?? (await data('{ cools { id number } }', {}, nation)).cools.find((c) => c.number === 1).id;
  const pfizer = await apiUser('pfizer.admin');
  const warehouse = await apiUser('warehouse.admin');
  const SUPPLY = 'mutation($c: ID!, $p: String!, $b: Int!) { registerSupply(coolId: $c, productCode: $p, boxes: $b) { boxes } }';
  await data(SUPPLY, { c: cool, p: 'PFIZER', b: 2000 }, pfizer);
  for (const product of ['NEEDLE', 'SYRINGE']) await data(SUPPLY, { c: cool, p: product, b: 19500 }, warehouse);
  const ids = await data('{ tokyo: prefecture(code: "13") { id } meguro: municipality(code: "131105") { id } hospital: navigatorSearch(text: "目黒区病院01") { venues { id } } }');
  await setThree(nation, cool, ids.tokyo.id, [160, 1560, 1560]);
  const tokyo = await apiUser('tokyo.admin');
  await data('mutation($c: ID!) { confirmAllocation(coolId: $c) { confirmedAt } }', { c: cool }, tokyo);
  await setThree(tokyo, cool, ids.meguro.id, [5, 49, 49]);

  // Meguro signs in on the page (second factor by e-mail) and confirms what it received.
  const meguroPage = await newPage();
  await uiSignIn(meguroPage, 'meguro.admin');
  await meguroPage.waitForSelector('#received', { timeout: 30000 });
  const received = await meguroPage.textContent('#received');
  check('Meguro sees 5 / 49 / 49 boxes (4,875 and 4,900 doses)', received.includes('4,875') && received.includes('4,900'));
  await meguroPage.click('#confirm');
  await meguroPage.waitForSelector('#chip-confirmed.on', { timeout: 10000 });
  check('Meguro confirms on the page (確認済)', true);
  await meguroPage.waitForSelector('#live[data-state="live"]', { timeout: 10000 });
  check('the screen is live over the websocket', true);
  // Meguro simulates, stores the proposal, gives its hospital 1 / 10 / 10 by hand and
  // completes, on the allocation screen (p. 36).
  await meguroPage.click('#nav-allocate');
  await meguroPage.waitForSelector('#allocate-form', { timeout: 10000 });
  await meguroPage.selectOption('#weighting', 'EQUAL');
  await meguroPage.click('#simulate');
  await meguroPage.waitForSelector('#proposal', { timeout: 10000 });
  const clinicRow = await meguroPage.textContent('#proposal tr[data-recipient="目黒区診療所01"]');
  check('the simulation shows why the satellite clinic gets nothing', clinicRow.includes('基本型施設を通じて供給'));
  check('the simulation writes nothing', await meguroPage.locator('#given').count() === 0);
  await meguroPage.click('#propose');
  await meguroPage.waitForSelector('#given', { timeout: 10000 });
  for (const [product, boxes] of [['PFIZER', 1], ['NEEDLE', 10], ['SYRINGE', 10]]) {
    const line = meguroPage.locator(`#given tr[data-line="目黒区病院01/${product}"]`);
    await line.locator('input').fill(String(boxes));
    await line.locator('button.save-line').click();
    await meguroPage.waitForFunction(([p, b]) => document.getElementById('allocate-message').textContent.includes(`${p} を ${b} 箱`), [product, boxes], { timeout: 10000 })
      .catch(async () => { throw new Error(`setting ${product}: ${await meguroPage.textContent('#allocate-message')}`); });
  }
  check('Meguro gives its hospital 1 / 10 / 10 by hand', (await meguroPage.textContent('#given tr[data-line="目黒区病院01/PFIZER"] td.num')).includes('975'));
  await meguroPage.click('#complete-allocation');
  await meguroPage.waitForSelector('#given-lines #chip-completed.on', { timeout: 10000 });
  check('Meguro completes its allocation on the page', true);
  await meguroPage.screenshot({ path: `${artefacts}/app-allocate.png`, fullPage: true });
  await meguroPage.click('#nav-received');
  await meguroPage.waitForSelector('#received', { timeout: 10000 });
  const meguro = await apiUser('meguro.admin');

  // Tokyo's check: Meguro is 〇; Tokyo completes, the page says why the lock is allowed, and the button locks.
  const tokyoPage = await newPage();
  await uiSignIn(tokyoPage, 'tokyo.admin');
  await tokyoPage.waitForSelector('#check-table', { timeout: 30000 });
  const meguroRow = tokyoPage.locator('#check-table tr', { hasText: '目黒区' });
  check('the 〇/X table shows Meguro 〇', (await meguroRow.locator('td.mark').textContent()) === '〇');
  check('the lock button waits for Tokyo\'s own completion', await tokyoPage.isDisabled('#lock') && (await tokyoPage.textContent('#lock-why')).includes('都道府県の分配作業'));
  await tokyoPage.click('#complete');
  await tokyoPage.waitForFunction(() => document.getElementById('lock-why')?.textContent.includes('データロックできます'), null, { timeout: 10000 });
  check('the table says why the lock is allowed', (await tokyoPage.textContent('#lock-why')).includes('〇'));
  await tokyoPage.screenshot({ path: `${artefacts}/app-check.png`, fullPage: true });
  await meguroPage.evaluate(() => { window.notReloaded = true; });
  await tokyoPage.click('#lock');
  await tokyoPage.click('#lock-yes');
  await tokyoPage.waitForSelector('#lock-banner', { timeout: 10000 });
  check('Tokyo locks through the button', await tokyoPage.isDisabled('#lock'));
  await meguroPage.waitForSelector('#lock-banner', { timeout: 30000 })
    .then(() => check('Meguro sees the data lock arrive live', true), () => check('Meguro sees the data lock arrive live', false));
  check('… without a reload, logged as it happened', await meguroPage.evaluate(() => window.notReloaded === true)
    && await meguroPage.locator('#event-log li[data-kind="LOCKED"]').count() >= 1);
  await meguroPage.screenshot({ path: `${artefacts}/app-locked.png`, fullPage: true });

  // Tokyo's list of its municipalities: Meguro confirmed, complete and 〇 in the cool; the filter narrows it.
  await tokyoPage.click('#nav-municipalities');
  await tokyoPage.waitForSelector('#municipalities tr[data-municipality="目黒区"]', { timeout: 10000 });
  const meguroListed = tokyoPage.locator('#municipalities tr[data-municipality="目黒区"]');
  check('the prefecture lists its municipalities with where each stands in the cool',
    (await meguroListed.locator('td.mark').textContent()) === '〇' && (await meguroListed.locator('td.confirmed').textContent()) === '✔'
    && (await meguroListed.locator('td.completed').textContent()) === '✔' && (await meguroListed.textContent()).includes('131105'));
  check('… only its own', await tokyoPage.locator('#municipalities tr[data-municipality="横浜市"]').count() === 0
    && await tokyoPage.locator('#municipalities tbody tr').count() >= 2);
  await tokyoPage.fill('#municipality-search', '目黒');
  await tokyoPage.waitForFunction(() => document.querySelectorAll('#municipalities tbody tr').length === 1, null, { timeout: 10000 })
    .then(() => check('the filter narrows the list', true), () => check('the filter narrows the list', false));
  await tokyoPage.screenshot({ path: `${artefacts}/app-municipalities.png`, fullPage: true });

  // The nation's board: Tokyo received, confirmed, allocated down and locked.
  const nationPage = await newPage();
  await uiSignIn(nationPage, 'nation.admin');
  await nationPage.waitForSelector('#board', { timeout: 30000 });
  const tokyoRow = nationPage.locator('#board tr[data-prefecture="東京都"]');
  check('the nation\'s board shows Tokyo received, confirmed, allocated and locked',
    (await tokyoRow.textContent()).includes('160 / 156,000') && (await tokyoRow.locator('td.locked').textContent()) === '✔'
    && (await tokyoRow.locator('td.confirmed').textContent()) === '✔');
  check('the board counts the locked prefectures', (await nationPage.locator('#progress-locked').getAttribute('value')) === '1');
  await nationPage.screenshot({ path: `${artefacts}/app-board.png`, fullPage: true });

  // The hospital: the privacy policy first, then its box and doses; the delivery date arrives live.
  const hospitalPage = await newPage();
  await uiSignIn(hospitalPage, 'meguro-hospital.admin');
  await hospitalPage.waitForSelector('#accept-policy', { timeout: 30000 });
  check('a medical institution is asked to accept the privacy policy first', (await hospitalPage.textContent('#privacy-policy')).length > 50);
  await hospitalPage.click('#accept-policy');
  await hospitalPage.waitForSelector('#allocation', { timeout: 30000 });
  check('the clinic sees 1 box = 975 doses after the lock', (await hospitalPage.textContent('#allocation')).includes('975'));
  // The wholesaler registers the date on its screen; the clinic's open page shows it.
  const date = dayInJapan(1);
  await hospitalPage.evaluate(() => { window.notReloaded = true; });
  const wholesalerPage = await newPage();
  await uiSignIn(wholesalerPage, 'wholesaler.admin');
  await wholesalerPage.waitForSelector('#to-deliver', { timeout: 30000 });
  const destination = wholesalerPage.locator('#to-deliver tr[data-delivery="目黒区病院01/PFIZER"]');
  await destination.locator('input.schedule-date').fill(date);
  await destination.locator('button.schedule').click();
  await wholesalerPage.waitForSelector('#to-deliver tr[data-delivery="目黒区病院01/PFIZER"][data-status="SCHEDULED"]', { timeout: 10000 })
    .then(() => check('the wholesaler registers the delivery date on its screen', true), async () => check(`the wholesaler registers the delivery date on its screen (${await wholesalerPage.textContent('#deliveries-message')})`, false));
  await hospitalPage.waitForFunction((on) => [...document.querySelectorAll('#deliveries td.scheduled')].some((td) => td.textContent === on), date, { timeout: 30000 })
    .then(() => check('the clinic sees its delivery date arrive live', true), () => check('the clinic sees its delivery date arrive live', false));
  // Then the delivery itself, with its lot.
  await destination.locator('input.delivered-date').fill(dayInJapan(0));
  await destination.locator('input.lot').fill('EY0583');
  await destination.locator('button.deliver').click();
  await wholesalerPage.waitForSelector('#to-deliver tr[data-delivery="目黒区病院01/PFIZER"][data-status="DELIVERED"]', { timeout: 10000 })
    .then(() => check('the wholesaler records the delivery with its lot', true), async () => check(`the wholesaler records the delivery with its lot (${await wholesalerPage.textContent('#deliveries-message')})`, false));
  await hospitalPage.waitForFunction(() => [...document.querySelectorAll('#deliveries td')].some((td) => td.textContent.includes('EY0583')), null, { timeout: 30000 })
    .then(() => check('the clinic sees the delivery and its lot arrive live', true), () => check('the clinic sees the delivery and its lot arrive live', false));
  await wholesalerPage.screenshot({ path: `${artefacts}/app-wholesaler.png`, fullPage: true });
  check('… without a reload', await hospitalPage.evaluate(() => window.notReloaded === true));
  await hospitalPage.screenshot({ path: `${artefacts}/app-clinic.png`, fullPage: true });

  // The approval queue: the hospital asks for a change; Meguro's open queue shows it, before
  // and after side by side, and Meguro approves.
  await meguroPage.click('#nav-approvals');
  await meguroPage.waitForSelector('#approvals-body > *', { timeout: 10000 });
  const hospitalToken = await apiUser('meguro-hospital.admin');
  await data('mutation($f: ID!, $i: UpdateFacilityInput!) { updateFacility(facilityId: $f, input: $i) { changeRequest { id } } }',
    { f: ids.hospital.venues[0].id, i: { generalAcceptance: true } }, hospitalToken);
  const request = meguroPage.locator('#approvals-body article.request[data-facility="目黒区病院01"]');
  await request.waitFor({ timeout: 30000 })
    .then(() => check('a facility\'s change request arrives live in the queue', true), () => check('a facility\'s change request arrives live in the queue', false));
  check('before and after side by side', (await request.locator('tr[data-field="generalAcceptance"] td.before').textContent()) === 'いいえ'
    && (await request.locator('tr[data-field="generalAcceptance"] td.after').textContent()) === 'はい');
  await meguroPage.screenshot({ path: `${artefacts}/app-approvals.png`, fullPage: true });
  await request.locator('button.approve').click();
  await meguroPage.waitForFunction(() => document.getElementById('approvals-message').textContent.includes('承認しました'), null, { timeout: 10000 });
  const approved = await data('query($f: ID!) { node(id: $f) { ... on Facility { generalAcceptance pendingChangeRequest { id } } } }', { f: ids.hospital.venues[0].id }, meguro);
  check('Meguro approves on the page', approved.node.generalAcceptance === true && approved.node.pendingChangeRequest === null);

  // A special venue and its doctor (p. 28): not eligible until one doctor holds both roles.
  await meguroPage.click('#nav-venues');
  await meguroPage.waitForSelector('#venue-form', { timeout: 10000 });
  await meguroPage.fill('#venue-code', '1319000020');
  await meguroPage.fill('#venue-name', '目黒区特設会場02');
  await meguroPage.fill('#venue-romaji', 'Meguro Special Venue 02');
  await meguroPage.fill('#venue-address', '東京都目黒区八雲1-1-1');
  await meguroPage.fill('#venue-latitude', '35.62');
  await meguroPage.fill('#venue-longitude', '139.67');
  await meguroPage.click('#venue-form button[type="submit"]');
  const newVenue = meguroPage.locator('#venues-body article.venue[data-venue="目黒区特設会場02"]');
  await newVenue.waitFor({ timeout: 10000 })
    .then(() => check('Meguro registers a special venue', true), async () => check(`Meguro registers a special venue (${await meguroPage.textContent('#venues-message')})`, false));
  check('without doctors it gets no allocation, and says why', (await newVenue.locator('p.eligibility').textContent()).includes('責任医師なし'));
  await newVenue.locator('input.doctor-name').fill('医師 一郎');
  await newVenue.locator('input.doctor-licence').fill('98765');
  for (const role of ['RESPONSIBLE', 'VACCINATING']) await newVenue.locator(`input.doctor-role[value="${role}"]`).check();
  await newVenue.locator('form.doctor-form button[type="submit"]').click();
  await meguroPage.waitForFunction(() => document.querySelector('article.venue[data-venue="目黒区特設会場02"] ul.doctors')?.textContent.includes('医師 一郎'), null, { timeout: 10000 })
    .then(() => check('one doctor registered with both roles', true), () => check('one doctor registered with both roles', false));
  check('the doctor reasons are gone', !(await newVenue.locator('p.eligibility').textContent()).includes('医師なし'));

  // The call centre books a resident on the page, finds the booking by coupon, and cancels it.
  // Beyond the navigator's four-week horizon: the navigator's test counts this venue's places.
  const bookingDay = dayInJapan(35);
  // Meguro opens the slots on its bulk-creation screen (p. 39).
  await meguroPage.click('#nav-slots');
  await meguroPage.waitForSelector('#slots-form', { timeout: 10000 });
  await meguroPage.selectOption('#slot-venue', { label: '目黒区特設会場01' });
  await meguroPage.selectOption('#slot-product', 'PFIZER');
  await meguroPage.fill('#slot-from', bookingDay);
  await meguroPage.fill('#slot-to', bookingDay);
  await meguroPage.fill('#p1-opens', '10:00');
  await meguroPage.fill('#p1-closes', '10:30');
  await meguroPage.fill('#slot-minutes', '30');
  await meguroPage.fill('#slot-capacity', '2');
  await meguroPage.click('#create-slots');
  await meguroPage.waitForSelector('#slots-created', { timeout: 10000 })
    .then(async () => check('Meguro creates slots in bulk on its screen', (await meguroPage.textContent('#slots-created')).includes('1枠')),
      async () => check(`Meguro creates slots in bulk on its screen (${await meguroPage.textContent('#slots-message')})`, false));

  // A resident's out-of-area notification arrives live in Meguro's queue and is accepted.
  await meguroPage.click('#nav-requests');
  // The queue shown (its feed started before it was read).
  await meguroPage.waitForSelector('#requests-body > *', { timeout: 10000 });
  const receipt = await data('mutation($i: ResidentRequestInput!) { submitOutOfAreaNotification(destinationMunicipalityCode: "131105", input: $i) { reference } }', { i: {
    couponMunicipalityCode: '131121', couponNumber: '0000009001', name: '世田谷 次郎', nameKana: 'セタガヤ ジロウ',
    birthDate: '1960-02-02', phone: '03-5555-0202', reason: '入院のため',
  } });
  const reference = receipt.submitOutOfAreaNotification.reference;
  const requestRow = meguroPage.locator(`#requests tr[data-reference="${reference}"]`);
  await requestRow.waitFor({ timeout: 30000 })
    .then(() => check('a resident\'s notification arrives live in the queue', true), () => check('a resident\'s notification arrives live in the queue', false));
  await requestRow.locator('button.accept').click();
  await meguroPage.waitForFunction((ref) => document.getElementById('requests-message').textContent.includes(`${ref} を受理`), reference, { timeout: 10000 })
    .then(() => check('Meguro accepts it on the page', true), () => check('Meguro accepts it on the page', false));

  const callPage = await newPage();
  await uiSignIn(callPage, 'meguro.callcenter');
  await callPage.waitForSelector('#slot-search', { timeout: 30000 });
  await callPage.fill('#slots-from', bookingDay);
  await callPage.fill('#slots-to', bookingDay);
  await callPage.click('#slot-search button[type="submit"]');
  const slotRow = callPage.locator('#slot-table tr', { hasText: '10:00' }).filter({ hasText: '目黒区特設会場01' });
  await slotRow.first().waitFor({ timeout: 10000 });
  check('the call centre finds the free slot (2 / 2)', (await slotRow.first().textContent()).includes('2 / 2'));
  await slotRow.first().locator('button.pick').click();
  await callPage.fill('#b-coupon', '0000008001');
  await callPage.fill('#b-name', '目黒 一郎');
  await callPage.fill('#b-kana', 'メグロ イチロウ');
  await callPage.fill('#b-birth', '1948-07-01');
  await callPage.fill('#b-phone', '03-5555-0101');
  await callPage.click('#book');
  await callPage.waitForSelector('#booked', { timeout: 10000 })
    .then(() => check('the call centre books a resident', true), async () => check(`the call centre books a resident (${await callPage.textContent('#booking-message')})`, false));
  const booked = await data('{ reservations(couponNumber: "0000008001", first: 5) { edges { node { status startsAt facility { name } } } } }', {}, meguro);
  check('the booking is stored for the coupon', booked.reservations.edges.some((e) => e.node.status === 'BOOKED' && e.node.startsAt === '10:00'));
  await callPage.waitForFunction(() => [...document.querySelectorAll('#slot-table tr')].some((tr) => tr.textContent.includes('10:00') && tr.textContent.includes('1 / 2')), null, { timeout: 10000 })
    .then(() => check('the slot list shows one place left', true), () => check('the slot list shows one place left', false));
  await callPage.screenshot({ path: `${artefacts}/app-call-centre.png`, fullPage: true });
  await callPage.locator('#coupon-table button.cancel').first().click();
  await callPage.waitForSelector('#coupon-table tr[data-status="CANCELLED"]', { timeout: 10000 });
  const cancelled = await data('{ reservations(couponNumber: "0000008001", first: 5) { edges { node { status } } } }', {}, meguro);
  check('the call centre cancels it', cancelled.reservations.edges.every((e) => e.node.status === 'CANCELLED'));

  // Help for this page: the knowledge base's article for the clinic's screen.
  await data('mutation($i: KnowledgeArticleInput!) { upsertKnowledgeArticle(input: $i) { id } }', { i: {
    kind: 'MANUAL', titleJa: '納入予定の見方', titleEn: 'Reading your deliveries', bodyJa: '納入予定日は卸売業者が登録します。',
    bodyEn: 'The wholesaler registers the date.', roles: ['MEDICAL_INSTITUTION'], pageKey: 'app.facility',
  } }, nation);
  await hospitalPage.click('#page-help summary');
  await hospitalPage.waitForSelector('#page-help article', { timeout: 10000 })
    .then(async () => check('"help for this page" shows the screen\'s article', (await hospitalPage.textContent('#page-help')).includes('納入予定の見方')), () => check('"help for this page" shows the screen\'s article', false));

  // The vaccination report and the desired quantity on one form; the original's confirmation
  // for unchanged and lower figures.
  await hospitalPage.click('#nav-report');
  await hospitalPage.waitForSelector('#report-form', { timeout: 10000 });
  const cell = 'input.figure[data-dose="1"][data-category="HEALTHCARE_WORKER"]';
  await hospitalPage.fill(cell, '100');
  await hospitalPage.fill('#report-desired', '2');
  await hospitalPage.click('#report-submit');
  await hospitalPage.waitForSelector('#reported', { timeout: 10000 });
  check('the clinic reports its doses and desired quantity on one form',
    (await hospitalPage.textContent('#stock tr[data-product="PFIZER"]')).includes('100'));
  const desiredNow = await data('query($c: ID!) { node(id: $c) { ... on Cool { desiredQuantities { boxes facility { name } } } } }', { c: cool }, nation);
  check('the desired quantity is stored for the cool', desiredNow.node.desiredQuantities.some((d) => d.facility?.name === '目黒区病院01' && d.boxes === 2));
  await hospitalPage.click('#report-submit');
  await hospitalPage.waitForSelector('#report-confirm:not([hidden])', { timeout: 10000 });
  check('an unchanged report asks for confirmation first', (await hospitalPage.textContent('#report-confirm')).includes('同じ値'));
  await hospitalPage.click('#report-confirm-yes');
  await hospitalPage.waitForSelector('#reported', { timeout: 10000 });
  await hospitalPage.fill(cell, '50');
  await hospitalPage.click('#report-submit');
  await hospitalPage.waitForSelector('#report-confirm:not([hidden])', { timeout: 10000 });
  check('a lower figure asks to be registered as a correction', (await hospitalPage.textContent('#report-confirm')).includes('訂正'));
  await hospitalPage.click('#report-confirm-yes');
  await hospitalPage.waitForFunction(() => document.querySelector('#stock tr[data-product="PFIZER"]')?.textContent.includes('50'), null, { timeout: 10000 })
    .then(() => check('the correction is registered', true), () => check('the correction is registered', false));
  // Tokyo's open list of municipalities follows the prefecture's statistics.
  await tokyoPage.waitForFunction(() => document.querySelector('#municipalities tr[data-municipality="目黒区"] td.administered')?.textContent === '50', null, { timeout: 15000 })
    .then(() => check('the prefecture\'s list shows the doses reported, live', true),
      async () => check(`the prefecture's list shows the doses reported, live (${await tokyoPage.textContent('#municipalities tr[data-municipality="目黒区"] td.administered').catch(() => '?')})`, false));
  check('… with the doses over time as a chart', await tokyoPage.locator('#doses-chart svg').count() === 1);
  // The stock chart: 975 doses delivered, 50 given, 925 on hand.
  check('the stock chart splits what was delivered into given and on hand',
    await hospitalPage.locator('#stock-chart rect[data-segment="given"]').count() === 1
    && await hospitalPage.locator('#stock-chart rect[data-segment="stock"]').count() === 1
    && (await hospitalPage.textContent('#stock-chart table')).includes('925'));
  await hospitalPage.screenshot({ path: `${artefacts}/app-report.png`, fullPage: true });
  await hospitalPage.click('#nav-facility');
  await hospitalPage.waitForSelector('#allocation', { timeout: 10000 });

  // Partners: the manufacturer sees its supply and the totals per wholesaler; the dry-ice
  // supplier sees the hospital's box with its arrival and exchange dates.
  const pfizerPage = await newPage();
  await uiSignIn(pfizerPage, 'pfizer.admin');
  await pfizerPage.waitForSelector('#delivery-totals', { timeout: 30000 });
  check('the manufacturer sees its supply', (await pfizerPage.textContent('#supply tr[data-product="PFIZER"]')).includes('2,000'));
  check('the manufacturer sees the totals per wholesaler', (await pfizerPage.textContent('#delivery-totals')).includes('関東医薬品卸'));
  await pfizerPage.selectOption('#ship-product', 'PFIZER');
  await pfizerPage.selectOption('#ship-wholesaler', { label: '関東医薬品卸株式会社' });
  await pfizerPage.fill('#ship-boxes', '20');
  await pfizerPage.fill('#ship-on', dayInJapan(0));
  await pfizerPage.click('#ship-form button[type="submit"]');
  await pfizerPage.waitForSelector('#shipments tr[data-received="no"]', { timeout: 10000 })
    .then(() => check('the manufacturer records a shipment to the wholesaler', true), async () => check(`the manufacturer records a shipment to the wholesaler (${await pfizerPage.textContent('#supply-message')})`, false));
  await pfizerPage.screenshot({ path: `${artefacts}/app-manufacturer.png`, fullPage: true });
  await wholesalerPage.click('#nav-receipts');
  const incoming = wholesalerPage.locator('#shipments tr[data-received="no"]');
  await incoming.first().waitFor({ timeout: 10000 });
  await incoming.first().locator('input.received-date').fill(dayInJapan(0));
  await incoming.first().locator('button.receive').click();
  await wholesalerPage.waitForSelector('#shipments tr[data-received="yes"]', { timeout: 10000 })
    .then(() => check('the wholesaler records the receipt (入荷)', true), async () => check(`the wholesaler records the receipt (${await wholesalerPage.textContent('#receipts-message')})`, false));
  // 20 boxes received, the hospital's 1 delivered: 19 on hand.
  check('its stock is what it received less what it delivered',
    (await wholesalerPage.textContent('#wholesaler-stock tr[data-product="PFIZER"] td.on-hand').catch(() => '')) === '19');
  await wholesalerPage.screenshot({ path: `${artefacts}/app-receipts.png`, fullPage: true });
  const dryPage = await newPage();
  await uiSignIn(dryPage, 'dryice.admin');
  await dryPage.waitForSelector('#dry-ice-body', { timeout: 30000 });
  const stop = dryPage.locator('#dry-ice tr[data-facility="目黒区病院01"]');
  // Delivered today (its scheduled day was tomorrow): the box arrived today.
  check('the dry-ice supplier sees the hospital\'s arrival and exchange dates', await stop.count() === 1
    && (await stop.textContent()).includes(dayInJapan(0)) && (await stop.textContent()).includes('✔')
    && /\d{4}-\d{2}-\d{2}/.test(await stop.locator('td.exchange').textContent()));

  // Questionnaires: the clinic imports its list and prints; the job's progress and the
  // download link arrive on the page.
  await hospitalPage.click('#nav-questionnaires');
  await hospitalPage.waitForSelector('#import-form', { timeout: 10000 });
  const csv = '氏名,氏名カナ,生年月日,性別,都道府県,市区町村,医療従事者等区分,勤務先\r\n'
    + ['目黒 太郎', '目黒 花子', '目黒 一郎'].map((name, i) => `${name},メグロ タロウ,1980-0${i + 1}-01,男,東京都,目黒区,医師,目黒区病院01\r\n`).join('');
  await hospitalPage.setInputFiles('#recipients-file', { name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await hospitalPage.click('#import-form button[type="submit"]');
  await hospitalPage.waitForSelector('#imported', { timeout: 10000 })
    .then(async () => check('the clinic imports its list of people', (await hospitalPage.textContent('#imported')).includes('3')),
      async () => check(`the clinic imports its list of people (${await hospitalPage.textContent('#documents-message')})`, false));
  await hospitalPage.click('#generate-form button[type="submit"]');
  await hospitalPage.waitForSelector('#jobs tr[data-status="SUCCEEDED"] a.download', { timeout: 30000 })
    .then(() => check('the print job finishes on the page with a download link', true), () => check('the print job finishes on the page with a download link', false));
  const href = await hospitalPage.getAttribute('#jobs tr[data-status="SUCCEEDED"] a.download', 'href').catch(() => null);
  if (href) {
    const pdf = await fetch(new URL(href, base));
    check('the link downloads the PDF', pdf.status === 200 && (pdf.headers.get('content-type') ?? '').includes('pdf'));
  }
  await hospitalPage.screenshot({ path: `${artefacts}/app-questionnaires.png`, fullPage: true });
  await hospitalPage.click('#nav-facility');
  await hospitalPage.waitForSelector('#allocation', { timeout: 10000 });

  // The booking status the navigator shows: the clinic books elsewhere and declares it.
  await hospitalPage.click('#nav-booking-status');
  await hospitalPage.waitForSelector('#declare-form', { timeout: 10000 });
  await hospitalPage.selectOption('#declare-status', 'FEW_LEFT');
  await hospitalPage.fill('#declare-date', dayInJapan(1));
  await hospitalPage.click('#declare-form button[type="submit"]');
  await hospitalPage.waitForFunction(() => document.getElementById('status-badge')?.textContent.includes('若干空き有り'), null, { timeout: 30000 })
    .then(() => check('the clinic declares its booking status and sees the navigator\'s badge follow', true),
      async () => check(`the clinic declares its booking status (${await hospitalPage.textContent('#status-message')})`, false));
  const shown = await data('{ navigatorSearch(text: "目黒区病院01") { venues { status } } }');
  check('the navigator shows the declared status', shown.navigatorSearch.venues[0].status === 'FEW_LEFT');
  await hospitalPage.click('#nav-facility');
  await hospitalPage.waitForSelector('#allocation', { timeout: 10000 });

  // English.
  await hospitalPage.click('#lang');
  await hospitalPage.waitForSelector('#allocation');
  check('the screens switch to English', (await hospitalPage.textContent('h2')).includes('Allocation'));
  await hospitalPage.click('#lang');

  // Idle: two minutes before the 15, a countdown; "stay signed in" keeps the session; then out.
  await hospitalPage.evaluate(() => { window.vsysApp.lastActivity = Date.now() - (15 * 60 - 90) * 1000; });
  await hospitalPage.waitForSelector('#idle-warning:not([hidden])', { timeout: 5000 });
  check('the idle warning counts down', /\d+秒/.test(await hospitalPage.textContent('#idle-text')));
  await hospitalPage.click('#idle-continue');
  await hospitalPage.waitForSelector('#idle-warning', { state: 'hidden', timeout: 5000 });
  check('"stay signed in" keeps the session', await hospitalPage.isVisible('#allocation'));
  await hospitalPage.evaluate(() => { window.vsysApp.lastActivity = Date.now() - 15 * 60 * 1000; });
  await hospitalPage.waitForSelector('#sign-in', { timeout: 5000 });
  check('idleness signs the user out', (await hospitalPage.textContent('#sign-in')).includes('サインアウト'));

  // TOTP: a user enrols an authenticator app on the account screen, then signs in with it.
  const staffPage = await newPage();
  await uiSignIn(staffPage, 'meguro.staff');
  await staffPage.waitForSelector('#nav-account', { timeout: 30000 });
  await staffPage.click('#nav-account');
  await staffPage.click('#totp-start');
  await staffPage.waitForSelector('#totp-secret', { timeout: 10000 });
  check('the enrolment shows a QR code to scan', await staffPage.evaluate(() => document.getElementById('totp-qr').naturalWidth > 0));
  const secret = (await staffPage.textContent('#totp-secret')).trim();
  await staffPage.fill('#totp-code', totp(secret));
  await staffPage.click('#totp-confirm button[type="submit"]');
  await staffPage.waitForSelector('#totp-done', { timeout: 10000 })
    .then(() => check('the authenticator app is enrolled', true), async () => check(`the authenticator app is enrolled (${await staffPage.textContent('#account-message')})`, false));
  await staffPage.click('#sign-out');
  await staffPage.waitForSelector('#username');
  await staffPage.fill('#username', 'meguro.staff');
  await staffPage.fill('#password', DEMO_PASSWORD);
  await staffPage.click('#sign-in button[type="submit"]');
  await staffPage.waitForSelector('#code', { timeout: 10000 });
  check('the second step now asks for the app\'s code', (await staffPage.textContent('#second-factor')).includes('認証アプリ'));
  // A code is accepted once: the next step's code (one step of drift is allowed).
  await staffPage.fill('#code', totp(secret, 1));
  await staffPage.click('#second-factor button[type="submit"]');
  await staffPage.waitForSelector('#nav-account', { timeout: 10000 })
    .then(() => check('the user signs in with the authenticator app', true), async () => check(`the user signs in with the authenticator app (${await staffPage.textContent('#code-error')})`, false));

  // The nation's board draws each prefecture's delivered doses by where they went.
  await nationPage.click('#nav-account');
  await nationPage.click('#nav-board');
  await nationPage.waitForSelector('#stock-chart', { timeout: 10000 })
    .then(async () => check('the nation\'s board charts the stock per prefecture', (await nationPage.textContent('#stock-chart table')).includes('東京都')),
      () => check('the nation\'s board charts the stock per prefecture', false));
  await nationPage.screenshot({ path: `${artefacts}/app-board-stock.png`, fullPage: true });

  // A password past its three months: the change comes first, then the screens.
  const expiredPage = await newPage();
  await uiSignIn(expiredPage, 'yokohama.staff');
  check('an expired password is changed first', await expiredPage.isVisible('#password-change'));
  await expiredPage.fill('#current-password', DEMO_PASSWORD);
  await expiredPage.fill('#new-password', 'weak');
  await expiredPage.click('#password-change button[type="submit"]');
  await expiredPage.waitForSelector('#password-change p.error:not([hidden])', { timeout: 10000 })
    .then(() => check('a weak new password is refused with the reason', true), () => check('a weak new password is refused with the reason', false));
  await expiredPage.screenshot({ path: `${artefacts}/app-password-expired.png`, fullPage: true });
  await expiredPage.fill('#new-password', 'Yokohama-New-Pass-7');
  await expiredPage.click('#password-change button[type="submit"]');
  await expiredPage.waitForSelector('#nav:not([hidden])', { timeout: 10000 })
    .then(() => check('after the change the screens open', true), async () => check(`after the change the screens open (${await expiredPage.textContent('#password-change')})`, false));

  // A phone: every screen of a prefecture, a clinic and a wholesaler, none wider than the phone.
  for (const username of ['tokyo.admin', 'meguro-hospital.admin', 'wholesaler.admin', 'meguro.admin']) {
    const phone = await newPage(390, 844);
    await uiSignIn(phone, username);
    await phone.waitForSelector('#nav:not([hidden])', { timeout: 30000 });
    const screens = await phone.$$eval('#nav a[id^="nav-"]', (links) => links.map((a) => a.id));
    const wide = [];
    for (const screen of screens) {
      await phone.click(`#${screen}`).catch(async () => { await phone.click('#menu-toggle').catch(() => {}); await phone.click(`#${screen}`); });
      await phone.waitForLoadState('networkidle');
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 1) wide.push(`${screen} ${overflow}px`);
      await phone.screenshot({ path: `${artefacts}/app-phone-${username.split('.')[0]}-${screen.slice(4)}.png`, fullPage: true });
    }
    check(`nothing overflows a phone-width screen: ${username}, ${screens.length} screens${wide.length ? ` (${wide.join(', ')})` : ''}`, wide.length === 0 && screens.length > 1);
    await phone.context().close();
  }

  check('no script errors and no requests to other hosts', pageErrors.length === 0 || (console.log(pageErrors), false));
} catch (error) {
  check(error.stack ?? error.message, false);
} finally {
  await browser.close();
}
console.log(`work screens: ${failures() === 0 ? 'all checks passed' : `${failures()} failed`}`);
process.exit(failures() === 0 ? 0 : 1);
