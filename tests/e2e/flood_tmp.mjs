import { startNode, Client } from './lib.mjs';
const node = await startNode({ args: ['--rate-limit', 'off'] });
try {
  const c = await Client.connect(node.ws('burst'));
  await c.join('burst');
  for (let i = 0; i < 3000; i++) c.send({ type: 'send', room: 'burst', id: `b${i}`, body: i });
  const acks = await c.take(3000, 'ack', 20000);
  console.log('acks', acks.length);
} catch (e) { console.log('ERR', e.message.slice(0, 100)); }
console.log(node.log().split('\n').slice(-5).join('\n'));
await node.stop(); node.cleanup();
