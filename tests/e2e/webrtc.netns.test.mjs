// A real WebRTC session between two headless Chromium pages, signaled through
// chatd's `signal` relay: SDP offer/answer and ICE candidates, then a text
// message over an RTCDataChannel. Host candidates only: no STUN/TURN servers,
// mDNS obfuscation off. Chromium gathers no loopback candidates, so this test
// runs in a private network namespace (tests/e2e/netns-run) whose one host
// address, 10.77.0.1, is the only candidate passed on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode } from './lib.mjs';
import { launchBrowser } from './browser.mjs';

let node;
let browser;
before(async () => {
  node = await startNode();
  browser = await launchBrowser(['--disable-features=WebRtcHideLocalIpsWithMdns']);
});
after(async () => {
  await browser?.close();
  await node.stop();
  node.cleanup();
});

// Runs in each page: joins the room and answers signaling as the given role.
const HOST_IP = '10.77.0.1';

function peer({ user, other, room, initiator, hostIp }) {
  const log = (window.rtcLog = []);
  window.received = [];
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${location.host}/ws?user=${user}`);
    const pc = new RTCPeerConnection({ iceServers: [] });
    const signal = (data) => ws.send(JSON.stringify({ type: 'signal', room, to: other, data }));
    pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate.includes(` ${hostIp} `)) {
        log.push(`candidate ${candidate.candidate}`);
        signal({ candidate: candidate.toJSON() });
      }
    };
    const wire = (dc) => {
      dc.onmessage = (e) => window.received.push(e.data);
      dc.onopen = () => {
        log.push('open');
        if (initiator) dc.send(`hello from ${user} over p2p`);
        resolve();
      };
    };
    pc.ondatachannel = (e) => wire(e.channel);
    ws.onmessage = async (ev) => {
      const f = JSON.parse(ev.data);
      if (f.type === 'joined') {
        log.push(`joined with ${f.members}`);
        if (initiator) {
          wire(pc.createDataChannel('chat'));
          await pc.setLocalDescription(await pc.createOffer());
          signal({ description: pc.localDescription.toJSON() });
        }
      } else if (f.type === 'signal' && f.from === other) {
        const { description, candidate } = f.data;
        if (description) {
          await pc.setRemoteDescription(description);
          if (description.type === 'offer') {
            await pc.setLocalDescription(await pc.createAnswer());
            signal({ description: pc.localDescription.toJSON() });
          }
        } else if (candidate) {
          await pc.addIceCandidate(candidate);
        }
      } else if (f.type === 'error') {
        reject(new Error(`${f.code}: ${f.message}`));
      }
    };
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', room }));
  });
}

test('two Chromium pages open a data channel through the signaling relay', { timeout: 60000 }, async () => {
  const answerer = await browser.newPage();
  const offerer = await browser.newPage();
  await answerer.goto(`${node.http}/`);
  await offerer.goto(`${node.http}/`);
  const room = 'rtc-room';
  // The answerer joins first, so it is in the room when the offer arrives.
  const bobReady = answerer.evaluate(peer, { user: 'rtcbob', other: 'rtcalice', room, initiator: false, hostIp: HOST_IP });
  await answerer.waitForFunction(() => window.rtcLog?.some((l) => l.startsWith('joined')));
  const aliceReady = offerer.evaluate(peer, { user: 'rtcalice', other: 'rtcbob', room, initiator: true, hostIp: HOST_IP });
  await Promise.all([aliceReady, bobReady]);
  await answerer.waitForFunction(() => window.received.length > 0, null, { timeout: 20000 });
  assert.deepEqual(await answerer.evaluate(() => window.received), ['hello from rtcalice over p2p']);
  const log = await offerer.evaluate(() => window.rtcLog);
  assert.ok(log.some((l) => l.startsWith('candidate')), 'host candidates were exchanged');
  assert.ok(log.every((l) => !l.startsWith('candidate') || l.includes(` ${HOST_IP} `)));
});
