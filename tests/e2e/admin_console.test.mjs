// The admin console (/admin) in headless Chromium on a 3-node cluster while
// clients chat: the cluster map, live counters, a room's live messages and
// members, closing a connection from the page, a presence lookup; and the
// login of a node that needs an admin token. Screenshots go to the test output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startNode, startCluster, Client } from './lib.mjs';
import { launchBrowser } from './browser.mjs';
import { sign, inOneHour } from './jwt.mjs';

const OUTPUT = process.env.CHAT_TEST_OUTPUT ?? new URL('../../build/test-output', import.meta.url).pathname;

async function shot(page, name) {
  mkdirSync(OUTPUT, { recursive: true });
  const path = join(OUTPUT, `admin-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`# screenshot of the admin console: ${path}`);
}

const text = (page, selector) => page.$eval(selector, (e) => e.textContent);

test('the console on three nodes: cluster map, live counters, a room live, a connection closed from the page, presence', { timeout: 180000 }, async () => {
  const cluster = await startCluster();
  const browser = await launchBrowser();
  const clients = [];
  let chatting = true;
  try {
    const alice = await Client.connect(cluster.ws(1, 'alice'));
    const bob = await Client.connect(cluster.ws(3, 'bob'));
    const carol = await Client.connect(cluster.ws(2, 'carol'));
    clients.push(alice, bob, carol);
    for (const c of clients) await c.join('console-room');
    for (const c of clients) await c.request({ type: 'ping' });
    let n = 0;
    const chat = (async () => {
      while (chatting && n < 400) {
        await alice.request({ type: 'send', room: 'console-room', id: `c-${++n}`, body: { text: `message ${n}` } });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => d.accept());
    await page.goto(`${cluster.http(2)}/admin`);

    // The cluster map: three nodes up, with their connections.
    for (const id of ['n1', 'n2', 'n3'])
      await page.waitForSelector(`[data-node="${id}"] .badge.up`, { timeout: 20000 });
    assert.match(await text(page, '#cluster-title'), /view \d+, as n2 sees it/);
    const conns = await page.$$eval('[data-node] [data-field="connections"]', (xs) => xs.map((x) => x.textContent));
    assert.deepEqual(conns, ['1', '1', '1']);
    // Live counters: messages/s and fan-out/s move while alice sends (no reload).
    await page.waitForFunction(() => {
      const v = (name) => parseFloat(document.querySelector(`[data-chart="${name}"] .value`).textContent);
      return v('messages') > 0 && v('fanout') > 0 && v('connections') === 3;
    }, null, { timeout: 20000 });
    await page.waitForFunction(() => document.querySelector('[data-chart="p99"] .value').textContent.includes('ms'), null, { timeout: 20000 });
    // A few points of each chart before the picture (a poll every 2 s).
    await page.waitForFunction(() => document.querySelector('[data-chart="messages"] polyline').getAttribute('points').split(' ').length >= 6, null, { timeout: 30000 });
    await shot(page, 'overview');

    // A room: its members and its messages, live.
    await page.click('#tab-rooms');
    await page.click('[data-room="console-room"]');
    await page.waitForSelector('#room-members [data-member="carol"]');
    const members = await page.$$eval('#room-members [data-member]', (xs) => xs.map((x) => x.dataset.member));
    assert.deepEqual(members, ['alice', 'bob', 'carol']);
    const home = await text(page, '[data-field="home"]');
    assert.match(home, /^n[123]$/);
    assert.match(await text(page, '[data-field="replicas"]'), /^n[123]$/);
    const before = await page.$eval('#room-messages li', (li) => li.dataset.id);
    await page.waitForFunction((before) => document.querySelector('#room-messages li')?.dataset.id !== before, before, { timeout: 20000 });
    const seq = Number(await text(page, '[data-field="seq"]'));
    assert.ok(seq >= 3, `seq ${seq}`);
    await shot(page, 'room');

    // A connection closed from the page: bob's client sees 4000.
    await page.click('#tab-connections');
    await page.click('[data-user="bob"]');
    await page.waitForSelector('#close-connection');
    assert.match(await text(page, '#conn-detail h3'), /^bob on n3$/);
    await shot(page, 'connection');
    await page.click('#close-connection');
    assert.deepEqual(await bob.closedWith(), { code: 4000, reason: 'closed by admin' });
    await page.waitForFunction(() => !document.querySelector('[data-user="bob"]'), null, { timeout: 20000 });

    // Presence: alice is online with one device on n1; keyboard only.
    await page.focus('#tab-connections');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-presence');
    await page.fill('#presence-user', 'alice');
    await page.press('#presence-user', 'Enter');
    await page.waitForSelector('#presence-result [data-field="status"]');
    assert.equal(await text(page, '#presence-result [data-field="status"]'), 'online');
    assert.match(await text(page, '#presence-result tbody'), /^n1:\d+n1/);
    await shot(page, 'presence');
    assert.deepEqual(errors, []);
    chatting = false;
    await chat;
  } finally {
    chatting = false;
    for (const c of clients) c.close();
    await browser.close();
    await cluster.stop();
  }
});

test('the console on a node with tokens: the login form, a refused token, then the admin token', { timeout: 120000 }, async () => {
  const SECRET = 'a-console-test-secret-long-enough-0123456789';
  const node = await startNode({ dev: false, args: ['--jwt-secret', SECRET] });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${node.http}/admin`);
    await page.waitForSelector('#login:not([hidden])');
    const user = sign({ exp: inOneHour(), sub: 'alice' }, { secret: SECRET });
    await page.fill('#token', user);
    await page.click('#login-form button');
    await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('lacks the admin scope'), null, { timeout: 10000 });
    await page.fill('#token', 'not-a-token');
    await page.click('#login-form button');
    await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('refused'), null, { timeout: 10000 });
    const admin = sign({ exp: inOneHour(), sub: 'ops', scope: 'admin' }, { secret: SECRET });
    await page.fill('#token', admin);
    await page.click('#login-form button');
    await page.waitForSelector('[data-node="n1"] .badge.up', { timeout: 10000 });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('chatd-admin-token')), admin);
    // A reload keeps the session's token.
    await page.reload();
    await page.waitForSelector('[data-node="n1"] .badge.up', { timeout: 10000 });
    assert.equal(await page.$eval('#login', (e) => e.hidden), true);
  } finally {
    await browser.close();
    await node.stop();
  }
});
