// The demo page and client.js in headless Chromium: WebSocket, SSE and
// long-poll pages chatting together, through a crash and restart of the node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startNode } from './lib.mjs';
import { launchBrowser } from './browser.mjs';

const OUTPUT = process.env.CHAT_TEST_OUTPUT ?? new URL('../../build/test-output', import.meta.url).pathname;

async function openPage(browser, node, user, room, transport) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[${user}] page error: ${e.message}`));
  const q = new URLSearchParams({ user, room, ...(transport ? { transport } : {}) });
  await page.goto(`${node.http}/?${q}`);
  await page.waitForSelector('#state.open', { timeout: 15000 });
  return page;
}

const messages = (page) =>
  page.$$eval('#log li.msg', (lis) => lis.map((li) => `${li.dataset.seq}:${li.querySelector('.text').textContent}`));

async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

async function waitForCount(page, n, timeout = 20000) {
  await page.waitForFunction((n) => document.querySelectorAll('#log li.msg').length >= n, n, { timeout });
}

const transportOf = (page) => page.$eval('#state', (el) => el.dataset.transport);

test('two pages chat over WebSocket: messages, presence, typing, seen by', { timeout: 120000 }, async () => {
  const node = await startNode({ args: ['--heartbeat-ms', '1000'] });
  const browser = await launchBrowser();
  try {
    const alice = await openPage(browser, node, 'alice', 'demo');
    const bob = await openPage(browser, node, 'bob', 'demo');
    assert.equal(await transportOf(alice), 'ws');
    await say(alice, 'hello bob');
    await waitForCount(bob, 1);
    await say(bob, 'hi alice');
    await waitForCount(alice, 2);
    await waitForCount(bob, 2);
    assert.deepEqual(await messages(alice), ['1:hello bob', '2:hi alice']);
    assert.deepEqual(await messages(bob), await messages(alice));
    // Presence dots, the typing line and the read receipt.
    await bob.waitForSelector('#members li.online[data-user="alice"]');
    await alice.type('#text', 'typ');
    await bob.waitForFunction(() => document.querySelector('#typing').textContent.includes('alice is typing'));
    await alice.waitForFunction(() => document.querySelector('#seen').textContent === 'seen by bob');
    mkdirSync(OUTPUT, { recursive: true });
    const shot = join(OUTPUT, 'demo-page.png');
    await bob.screenshot({ path: shot });
    console.log(`# screenshot of the demo page: ${shot}`);
  } finally {
    await browser.close();
    await node.stop();
    node.cleanup();
  }
});

test('SSE and long-poll pages chat with a WebSocket page, through a crash and restart', { timeout: 120000 }, async () => {
  let node = await startNode({ args: ['--heartbeat-ms', '1000'] });
  const { port, dir } = node;
  const browser = await launchBrowser();
  try {
    const ws = await openPage(browser, node, 'wendy', 'mix', 'ws');
    const sse = await openPage(browser, node, 'sam', 'mix', 'sse');
    const poll = await openPage(browser, node, 'paul', 'mix', 'poll');
    assert.deepEqual([await transportOf(ws), await transportOf(sse), await transportOf(poll)], ['ws', 'sse', 'poll']);
    const pages = [ws, sse, poll];
    let n = 0;
    for (const [page, text] of [[ws, 'from ws'], [sse, 'from sse'], [poll, 'from poll']]) {
      await say(page, text);
      ++n;
      for (const p of pages) await waitForCount(p, n);
    }
    const before = await messages(ws);
    assert.deepEqual(before, ['1:from ws', '2:from sse', '3:from poll']);
    for (const p of pages) assert.deepEqual(await messages(p), before);

    // Crash the node mid-conversation; one page sends while it is down.
    await node.kill9();
    for (const p of pages) await p.waitForSelector('#state:not(.open)', { timeout: 15000 });
    await say(sse, 'sent while offline');
    await new Promise((r) => setTimeout(r, 500));
    node = await startNode({ dataDir: dir, port, args: ['--heartbeat-ms', '1000'] });
    for (const p of pages) await p.waitForSelector('#state.open', { timeout: 30000 });
    for (const p of pages) await waitForCount(p, 4, 30000);
    await say(poll, 'after restart');
    await say(ws, 'last one');
    for (const p of pages) await waitForCount(p, 6, 30000);
    await new Promise((r) => setTimeout(r, 500)); // anything repeated would show up now
    const after = await messages(ws);
    assert.deepEqual(after.slice(0, 3), before);
    assert.equal(after.filter((m) => m.endsWith(':sent while offline')).length, 1);
    assert.deepEqual(after.map((m) => Number(m.split(':')[0])), [1, 2, 3, 4, 5, 6], 'gap-free, exactly once');
    for (const p of pages) assert.deepEqual(await messages(p), after, 'every page, same order');
  } finally {
    await browser.close();
    await node.stop();
    node.cleanup();
  }
});

// What a network that blocks WebSocket (or also SSE) looks like to a page: the
// connection fails right after it is created.
const blockWebSocket = () => {
  window.WebSocket = class {
    constructor() {
      setTimeout(() => {
        this.onerror?.(new Event('error'));
        this.onclose?.({ code: 1006 });
      }, 10);
    }
    send() {}
    close() {}
  };
};
const blockEventSource = () => {
  window.EventSource = class {
    constructor() {
      setTimeout(() => this.onerror?.(new Event('error')), 10);
    }
    addEventListener() {}
    close() {}
  };
};

test('client.js falls back to SSE when WebSocket is blocked, and to long-poll when SSE is too', { timeout: 120000 }, async () => {
  const node = await startNode();
  const browser = await launchBrowser();
  try {
    const noWs = await browser.newPage();
    await noWs.addInitScript(blockWebSocket);
    await noWs.goto(`${node.http}/?user=una&room=fb`);
    await noWs.waitForSelector('#state.open');
    const neither = await browser.newPage();
    await neither.addInitScript(blockWebSocket);
    await neither.addInitScript(blockEventSource);
    await neither.goto(`${node.http}/?user=nell&room=fb`);
    await neither.waitForSelector('#state.open');
    assert.equal(await transportOf(noWs), 'sse');
    assert.equal(await transportOf(neither), 'poll');
    await say(noWs, 'via sse');
    await say(neither, 'via poll');
    for (const p of [noWs, neither]) await waitForCount(p, 2);
    assert.deepEqual(await messages(noWs), ['1:via sse', '2:via poll']);
    assert.deepEqual(await messages(neither), await messages(noWs));
  } finally {
    await browser.close();
    await node.stop();
    node.cleanup();
  }
});
