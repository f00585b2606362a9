// The outbox: own messages not yet acked, kept in localStorage so they survive a reload.
// Each entry is re-sent with the same client_id until the server acks it; the server
// stores a client_id once, so a retry can never double a message.

const KEY_PREFIX = "chatapp.outbox.";

export class Outbox {
  constructor(userId) {
    this.key = KEY_PREFIX + userId;
  }

  load() {
    try {
      const entries = JSON.parse(localStorage.getItem(this.key) || "[]");
      return Array.isArray(entries) ? entries : [];
    } catch {
      return [];
    }
  }

  save(entries) {
    try {
      localStorage.setItem(this.key, JSON.stringify(entries));
    } catch {
      // Storage full or blocked: the message still goes out, it just won't survive a reload.
    }
  }

  forRoom(room) {
    return this.load().filter((entry) => entry.room === room);
  }

  add(entry) {
    const entries = this.load().filter((e) => e.client_id !== entry.client_id);
    entries.push(entry);
    this.save(entries);
  }

  update(clientId, changes) {
    this.save(this.load().map((e) => (e.client_id === clientId ? { ...e, ...changes } : e)));
  }

  remove(clientId) {
    this.save(this.load().filter((e) => e.client_id !== clientId));
  }
}

// Delay before the next try: exponential, capped, with jitter so that many clients
// coming back from one outage do not all retry at the same instant.
export function retryDelay(attempt, { base = 1000, max = 15000 } = {}) {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
