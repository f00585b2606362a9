// The benchmark's load generator: many socket.io-client connections from one Node process.
//
//   node loadgen.js CONFIG.json
//
// It drives chatapp and the Node baseline alike (the same events: `join`, `send` with an
// ack, `message` broadcasts) and prints one JSON object per line on stdout:
//   {"event": "phase", "name": ...}   markers the Python driver samples server CPU/RSS at
//   {"event": "result", "result": {...}}   the measurements, last
// Every wait is bounded: each ack has a timeout, each phase a deadline, and a watchdog
// ends the process after config.max_runtime_s whatever happens.
"use strict";

const fs = require("fs");
const { performance, monitorEventLoopDelay } = require("perf_hooks");
const { io } = require("socket.io-client");

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const ACK_TIMEOUT_MS = (config.ack_timeout_s || 30) * 1000;
const CONNECT_TIMEOUT_MS = (config.connect_timeout_s || 20) * 1000;
// One server, or several processes of one (config.urls): the i-th client of each group
// connects to urls[i % urls.length], so receivers spread round-robin and the sender
// (a group of one) lands on the first.
const URLS = config.urls && config.urls.length ? config.urls : [config.url];

const watchdog = setTimeout(() => {
  emitLine({ event: "error", message: `load generator watchdog: over ${config.max_runtime_s} s` });
  process.exit(3);
}, (config.max_runtime_s || 120) * 1000);

function emitLine(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

let warnings = 0;
function warn(message) {
  warnings += 1;
  if (warnings <= 20) emitLine({ event: "warning", message });
}

function phase(name, extra = {}) {
  emitLine({ event: "phase", name, t: performance.now(), ...extra });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// -- statistics -------------------------------------------------------------------

function summarize(samples) {
  if (samples.length === 0) return { count: 0, p50: null, p90: null, p99: null, p999: null, max: null, mean: null };
  const sorted = Float64Array.from(samples).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted[sorted.length - 1],
    mean: sum / sorted.length,
  };
}

// Quantiles for a CDF plot: 0..99% in 1% steps, then the tail.
function cdf(samples) {
  if (samples.length === 0) return [];
  const sorted = Float64Array.from(samples).sort();
  const qs = [];
  for (let i = 0; i < 100; i += 1) qs.push(i / 100);
  qs.push(0.995, 0.999, 0.9999, 1);
  return qs.map((q) => [q, sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]]);
}

// -- clients ------------------------------------------------------------------------

function headersFor(cookie) {
  const headers = { "User-Agent": config.user_agent };
  if (cookie) headers.Cookie = cookie;
  return headers;
}

function connectClient(cookie, transport, url = URLS[0]) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      forceNew: true,
      reconnection: false,
      transports: [transport],
      upgrade: false,
      timeout: CONNECT_TIMEOUT_MS,
      extraHeaders: headersFor(cookie),
    });
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("connect timed out"));
    }, CONNECT_TIMEOUT_MS + 1000);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      socket.close();
      reject(new Error(`connect_error: ${err.message}`));
    });
  });
}

function call(socket, event, payload, timeoutMs = ACK_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
      if (err) reject(new Error(`${event}: no ack within ${timeoutMs} ms`));
      else if (!ack || ack.ok !== true) reject(new Error(`${event}: ${JSON.stringify(ack)}`));
      else resolve(ack);
    });
  });
}

// Run `task(i)` for i in 0..count-1, at most `concurrency` at a time.
async function pool(count, concurrency, task) {
  const results = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next;
      next += 1;
      results[i] = await task(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

function negotiatedExtensions(socket) {
  const transport = socket.io && socket.io.engine && socket.io.engine.transport;
  const ws = transport && transport.ws;
  return ws && typeof ws.extensions === "string" ? ws.extensions : null;
}

const opened = [];

async function openClients(count, cookies, transport, room) {
  const started = performance.now();
  const sockets = await pool(count, config.connect_concurrency || 50, async (i) => {
    const socket = await connectClient(cookies.length ? cookies[i % cookies.length] : "", transport, URLS[i % URLS.length]);
    opened.push(socket);
    if (room) await call(socket, "join", { room: typeof room === "function" ? room(i) : room });
    return socket;
  });
  return { sockets, seconds: (performance.now() - started) / 1000 };
}

function closeAll() {
  for (const socket of opened) socket.close();
}

function bodyOf(seq) {
  const head = `bench ${seq} `;
  return head + "x".repeat(Math.max(0, (config.body_chars || 100) - head.length));
}

function cpuSeconds(start) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

// -- scenarios ------------------------------------------------------------------------

// R messages/s from one sender into one room of C receivers; latency send -> receipt.
async function broadcastScenario(transport) {
  const C = config.clients;
  const R = config.rate;
  const room = config.room;
  const receivers = await openClients(C, config.receiver_cookies || [], transport, room);
  phase("joined", { seconds: receivers.seconds });
  const extensions = transport === "websocket" ? negotiatedExtensions(receivers.sockets[0]) : null;
  const sender = (await openClients(1, config.sender_cookie ? [config.sender_cookie] : [], "websocket", null)).sockets[0];

  const runTag = `r${Date.now().toString(36)}`;
  const sendTimes = new Map(); // client_id -> performance.now() at emit
  const latencies = [];
  const perClient = new Int32Array(C);
  let delivered = 0;
  let duplicates = 0;
  let lastDelivery = 0;
  let measuring = false;
  const seen = receivers.sockets.map(() => new Set());

  // The saturation phase's messages in flight: client_id -> {sentAt, count}.
  const satInflight = new Map();
  const sat = { delivered: 0, completed: 0, latencies: [], counting: false, wake: null };

  receivers.sockets.forEach((socket, i) => {
    socket.on("message", (message) => {
      const now = performance.now();
      const id = message && message.client_id;
      const flight = satInflight.get(id);
      if (flight !== undefined) {
        flight.count += 1;
        if (sat.counting) {
          sat.delivered += 1;
          sat.latencies.push(now - flight.sentAt);
        }
        if (flight.count >= C) {
          satInflight.delete(id);
          if (sat.counting) sat.completed += 1;
          if (sat.wake) sat.wake();
        }
        return;
      }
      const sentAt = sendTimes.get(id);
      if (sentAt === undefined) return; // warm-up, or someone else's
      if (seen[i].has(id)) {
        duplicates += 1;
        return;
      }
      seen[i].add(id);
      perClient[i] += 1;
      delivered += 1;
      lastDelivery = now;
      if (measuring) latencies.push(now - sentAt);
    });
  });

  const acks = [];
  let ackErrors = 0;
  let acked = 0;
  function send(seq, tag, counted) {
    const clientId = `${tag}-${seq}`;
    const t0 = performance.now();
    sendTimes.set(clientId, t0);
    sender.timeout(ACK_TIMEOUT_MS).emit("send", { room, body: bodyOf(seq), client_id: clientId }, (err, ack) => {
      if (err || !ack || ack.ok !== true) {
        if (counted) ackErrors += 1;
        warn(`send ack: ${err ? err.message : JSON.stringify(ack)}`);
        return;
      }
      if (!counted) return;
      acked += 1;
      acks.push(performance.now() - t0);
    });
  }

  // Warm-up: a few messages at the same rate, not counted, so first-use costs stay out.
  const warmCount = config.warmup_messages || 0;
  for (let i = 0; i < warmCount; i += 1) {
    send(i, `${runTag}w`, false);
    await sleep(1000 / R);
  }
  const warmDeadline = performance.now() + 10000;
  while (delivered < warmCount * C && performance.now() < warmDeadline) await sleep(20);
  const warmDelivered = delivered;
  delivered = 0;
  perClient.fill(0);
  sendTimes.clear();

  // Measured phase: open loop, on a schedule (sends due are sent even if acks lag).
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const cpuStart = process.cpuUsage();
  measuring = true;
  phase("measure_start");
  const start = performance.now();
  const total = Math.max(1, Math.round(R * config.duration_s));
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * R) + 1);
    while (sent < due) {
      send(sent, runTag, true);
      sent += 1;
    }
    await sleep(Math.max(1, Math.min(20, 1000 / R)));
  }
  const sendEnd = performance.now();
  const expected = sent * C;
  const drainDeadline = sendEnd + config.drain_s * 1000;
  while ((delivered < expected || acked + ackErrors < sent) && performance.now() < drainDeadline) await sleep(20);
  const end = performance.now();
  phase("measure_end");
  measuring = false;
  eld.disable();
  const cpu = cpuSeconds(cpuStart);
  const wall = (end - start) / 1000;

  let minPerClient = Infinity;
  let maxPerClient = 0;
  for (const n of perClient) {
    minPerClient = Math.min(minPerClient, n);
    maxPerClient = Math.max(maxPerClient, n);
  }
  const deliverySpan = ((lastDelivery || end) - start) / 1000;
  const saturation = config.saturate_s > 0 ? await saturate() : null;

  // Max throughput: keep `window` messages in flight (a message is done when every
  // receiver has it), so the server is never idle and its queues stay bounded.
  async function saturate() {
    const W = config.saturate_window || 8;
    const tag = `${runTag}s`;
    let seq = 0;
    let incomplete = 0;
    let satAckErrors = 0;
    const satEld = monitorEventLoopDelay({ resolution: 10 });
    satEld.enable();
    const satCpu = process.cpuUsage();
    phase("saturate_start");
    sat.counting = true;
    const t0 = performance.now();
    const stopAt = t0 + config.saturate_s * 1000;
    while (performance.now() < stopAt) {
      if (satInflight.size < W) {
        const clientId = `${tag}-${seq}`;
        satInflight.set(clientId, { sentAt: performance.now(), count: 0 });
        sender.timeout(ACK_TIMEOUT_MS).emit("send", { room, body: bodyOf(seq), client_id: clientId }, (err, ack) => {
          if (err || !ack || ack.ok !== true) {
            satAckErrors += 1;
            warn(`saturate send ack: ${err ? err.message : JSON.stringify(ack)}`);
          }
        });
        seq += 1;
        continue;
      }
      // Retire what will never complete (a lost delivery), so the window cannot stall.
      const staleBefore = performance.now() - 10000;
      for (const [id, flight] of satInflight) {
        if (flight.sentAt < staleBefore) {
          satInflight.delete(id);
          incomplete += 1;
        }
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 50);
        sat.wake = () => {
          clearTimeout(timer);
          sat.wake = null;
          resolve();
        };
      });
    }
    const t1 = performance.now();
    sat.counting = false;
    phase("saturate_end");
    satEld.disable();
    const seconds = (t1 - t0) / 1000;
    const used = cpuSeconds(satCpu);
    return {
      window: W,
      seconds,
      sent: seq,
      completed: sat.completed,
      incomplete,
      ack_errors: satAckErrors,
      delivered: sat.delivered,
      delivered_per_s: sat.delivered / seconds,
      messages_per_s: sat.completed / seconds,
      latency_ms: summarize(sat.latencies),
      loadgen: {
        cpu_seconds: used,
        wall_seconds: seconds,
        cpu_utilization: used / seconds,
        event_loop_delay_ms: { p50: satEld.percentile(50) / 1e6, p99: satEld.percentile(99) / 1e6, max: satEld.max / 1e6 },
      },
    };
  }

  return {
    saturation,
    clients: C,
    transport,
    offered_rate: R,
    duration_s: config.duration_s,
    join_seconds: receivers.seconds,
    // Receivers connected to each of config.urls (one entry for a single server).
    receivers_per_url: URLS.map((_, u) => Math.floor(C / URLS.length) + (u < C % URLS.length ? 1 : 0)),
    negotiated_extensions: extensions,
    warmup_delivered: warmDelivered,
    sent,
    acked,
    ack_errors: ackErrors,
    expected,
    delivered,
    lost: expected - delivered,
    loss_ratio: expected ? (expected - delivered) / expected : 0,
    duplicates,
    min_per_client: minPerClient,
    max_per_client: maxPerClient,
    offered_deliveries_per_s: R * C,
    // Over the scheduled sending time, or longer when deliveries ran late.
    delivered_per_s: delivered / Math.max(config.duration_s, deliverySpan),
    send_seconds: (sendEnd - start) / 1000,
    drain_seconds: (end - sendEnd) / 1000,
    latency_ms: summarize(latencies),
    latency_cdf_ms: cdf(latencies),
    ack_latency_ms: summarize(acks),
    loadgen: {
      cpu_seconds: cpu,
      wall_seconds: wall,
      cpu_utilization: cpu / wall,
      event_loop_delay_ms: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 },
    },
  };
}

// S senders in K rooms, each sending its next message when the previous one is acked.
async function writeScenario() {
  const S = config.senders;
  const K = config.rooms.length;
  const roomOf = (i) => config.rooms[i % K];
  const senders = await openClients(S, config.sender_cookies || [], "websocket", roomOf);
  phase("joined", { seconds: senders.seconds });
  const latencies = [];
  let acked = 0;
  let errors = 0;
  let received = 0;
  for (const socket of senders.sockets) socket.on("message", () => { received += 1; });

  let stop = false;
  let measuring = false;
  const runTag = `w${Date.now().toString(36)}`;
  async function loop(i) {
    const socket = senders.sockets[i];
    let n = 0;
    while (!stop) {
      const t0 = performance.now();
      try {
        await call(socket, "send", { room: roomOf(i), body: bodyOf(n), client_id: `${runTag}-${i}-${n}` });
        if (measuring) {
          acked += 1;
          latencies.push(performance.now() - t0);
        }
      } catch (err) {
        if (measuring) errors += 1;
        warn(err.message);
        await sleep(50);
      }
      n += 1;
    }
  }
  const loops = senders.sockets.map((_, i) => loop(i));
  await sleep((config.warmup_s || 0) * 1000);
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const cpuStart = process.cpuUsage();
  measuring = true;
  received = 0;
  phase("measure_start");
  const start = performance.now();
  await sleep(config.duration_s * 1000);
  measuring = false;
  const end = performance.now();
  phase("measure_end");
  eld.disable();
  stop = true;
  const cpu = cpuSeconds(cpuStart);
  await Promise.race([Promise.all(loops), sleep(ACK_TIMEOUT_MS + 1000)]);
  const wall = (end - start) / 1000;
  return {
    senders: S,
    rooms: K,
    duration_s: wall,
    join_seconds: senders.seconds,
    acked,
    errors,
    acked_per_s: acked / wall,
    broadcasts_received: received,
    ack_latency_ms: summarize(latencies),
    ack_latency_cdf_ms: cdf(latencies),
    loadgen: {
      cpu_seconds: cpu,
      wall_seconds: wall,
      cpu_utilization: cpu / wall,
      event_loop_delay_ms: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 },
    },
  };
}

// N idle WebSocket connections: the driver reads the server's RSS before and after.
// Open up to `count` connections, stopping at the first refusal or timeout: a server
// that caps its connections shows the cap instead of a pile of timeouts.
async function openUntilRefused(count, cookies) {
  const started = performance.now();
  const sockets = [];
  let failed = 0;
  let firstError = null;
  let lastSuccess = started;
  let next = 0;
  async function worker() {
    while (next < count && failed === 0) {
      const i = next;
      next += 1;
      try {
        const socket = await connectClient(cookies.length ? cookies[i % cookies.length] : "", "websocket");
        opened.push(socket);
        sockets.push(socket);
        lastSuccess = performance.now();
      } catch (err) {
        failed += 1;
        if (!firstError) firstError = err.message;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(config.connect_concurrency || 50, count) }, worker));
  return { sockets, failed, firstError, seconds: (lastSuccess - started) / 1000, total_seconds: (performance.now() - started) / 1000 };
}

// N idle WebSocket connections: the driver reads the server's RSS before and after.
async function connectionsScenario() {
  const warm = await openClients(Math.min(5, config.clients), config.cookies || [], "websocket", null);
  for (const socket of warm.sockets) socket.close();
  opened.length = 0;
  const settleMs = (config.settle_s || 2) * 1000;
  await sleep(settleMs);
  phase("baseline");
  await sleep(settleMs / 4);
  const cpuStart = process.cpuUsage();
  const conns = await openUntilRefused(config.clients, config.cookies || []);
  const connectCpu = cpuSeconds(cpuStart);
  await sleep(settleMs);
  phase("connected", { count: conns.sockets.length });
  await sleep((config.hold_s || 3) * 1000);
  const stillConnected = conns.sockets.filter((s) => s.connected).length;
  phase("held");
  return {
    clients: config.clients,
    connected: conns.sockets.length,
    failed: conns.failed,
    first_error: conns.firstError,
    connect_seconds: conns.seconds,
    connects_per_s: conns.seconds > 0 ? conns.sockets.length / conns.seconds : null,
    still_connected: stillConnected,
    loadgen: { cpu_seconds: connectCpu, wall_seconds: conns.total_seconds, cpu_utilization: connectCpu / conns.total_seconds },
  };
}

// History paging: one client asks for 50-message pages, one at a time, at the `before`
// positions the driver chose (null: the newest page); latency from emit to ack.
async function historyScenario() {
  const client = await openClients(1, config.cookies || [], "websocket", config.room);
  const socket = client.sockets[0];
  const latencies = { random: [], newest: [] };
  const sizes = new Set();
  const ask = async (before) => {
    const payload = { room: config.room, limit: config.limit || 50 };
    if (before !== null) payload.before = before;
    const t0 = performance.now();
    const ack = await call(socket, "history", payload);
    const ms = performance.now() - t0;
    sizes.add(ack.messages.length);
    return ms;
  };
  for (let i = 0; i < Math.min(5, config.befores.length); i += 1) await ask(config.befores[i]); // warm-up
  const cpuStart = process.cpuUsage();
  phase("measure_start");
  const start = performance.now();
  for (const before of config.befores) latencies.random.push(await ask(before));
  for (let i = 0; i < (config.newest_repeats || 0); i += 1) latencies.newest.push(await ask(null));
  const end = performance.now();
  phase("measure_end");
  const cpu = cpuSeconds(cpuStart);
  const wall = (end - start) / 1000;
  return {
    pages: latencies.random.length + latencies.newest.length,
    page_sizes: [...sizes].sort((a, b) => a - b),
    random_page_ms: summarize(latencies.random),
    newest_page_ms: summarize(latencies.newest),
    latency_cdf_ms: cdf(latencies.random),
    loadgen: { cpu_seconds: cpu, wall_seconds: wall, cpu_utilization: cpu / wall },
  };
}

async function main() {
  let result;
  try {
    if (config.scenario === "fanout") result = await broadcastScenario("websocket");
    else if (config.scenario === "polling") result = await broadcastScenario("polling");
    else if (config.scenario === "write") result = await writeScenario();
    else if (config.scenario === "connections") result = await connectionsScenario();
    else if (config.scenario === "history") result = await historyScenario();
    else throw new Error(`unknown scenario ${config.scenario}`);
    emitLine({ event: "result", result });
  } catch (err) {
    emitLine({ event: "error", message: String(err && err.stack ? err.stack : err) });
    process.exitCode = 2;
  } finally {
    closeAll();
    clearTimeout(watchdog);
    // Sockets close asynchronously; do not wait on stragglers.
    setTimeout(() => process.exit(process.exitCode || 0), 200).unref();
  }
}

main();
