// The Socket.IO reference peer of bench/compare: chatd's room semantics over
// Socket.IO 4. `join` (acked with the room's last seq), `send` (a gap-free seq
// per room, acked, then broadcast to every member, the sender included). In
// memory: no durability, no idempotency keys, no auth — strictly less work per
// message than chatd does. One Node.js process, as people deploy it per core.
//   node server.js 8090
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? 8090);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`usage: node server.js PORT (got ${process.argv[2]})`);
  process.exit(2);
}
const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
});
const seqs = new Map();

io.on('connection', (socket) => {
  const user = String(socket.handshake.query.user ?? 'anonymous');
  socket.on('join', (room, ack) => {
    if (typeof room !== 'string' || typeof ack !== 'function') return;
    socket.join(room);
    ack({ room, seq: seqs.get(room) ?? 0 });
  });
  socket.on('send', (m, ack) => {
    if (typeof m?.room !== 'string' || !socket.rooms.has(m.room)) return ack?.({ error: 'not_joined' });
    const seq = (seqs.get(m.room) ?? 0) + 1;
    seqs.set(m.room, seq);
    io.to(m.room).emit('message', { room: m.room, seq, id: m.id, user, body: m.body });
    ack?.({ room: m.room, id: m.id, seq });
  });
});
http.listen(port, '127.0.0.1', () => console.log(`socket.io peer listening on 127.0.0.1:${port}`));
