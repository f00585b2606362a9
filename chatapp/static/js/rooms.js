// The room list: unread counts that count on by themselves, and @mention notices.
// The page asks for the counts on every (re)connect (`unread`), which also lets its socket
// hear the `message` events of those rooms; each new message from someone else adds one.
import { io } from "/vendor/socket.io.esm.min.js";
import { TitleCounter, notifyAckReminder, notifyMention } from "./notify.js";
import { _ } from "./i18n.js";

const page = document.getElementById("rooms-page");
const myId = Number(page.dataset.userId);
const title = new TitleCounter();
const counts = new Map(); // slug -> unread

function badgeOf(item) {
  let badge = item.querySelector(".unread");
  if (!badge) {
    badge = document.createElement("span");
    badge.className = "unread";
    const count = document.createElement("span");
    count.className = "count";
    const label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = " " + _("unread");
    badge.append(count, label);
    item.querySelector(".room-name").after(badge);
  }
  return badge;
}

function show(slug, count) {
  counts.set(slug, count);
  for (const item of document.querySelectorAll(`li[data-room="${CSS.escape(slug)}"]`)) {
    const badge = badgeOf(item);
    badge.dataset.count = String(count);
    badge.querySelector(".count").textContent = String(count);
    badge.hidden = count === 0;
  }
  title.set(Array.from(counts.values()).reduce((sum, n) => sum + n, 0));
}

const socket = io({ reconnectionDelay: 1000, reconnectionDelayMax: 10000, randomizationFactor: 0.5 });
window.chatapp = { socket };

async function refresh() {
  try {
    const ack = await socket.timeout(8000).emitWithAck("unread", {});
    if (!ack.ok) return;
    for (const [slug, count] of Object.entries(ack.rooms)) show(slug, count);
  } catch {
    // No answer: the counts shown stay; the next reconnect or visit asks again.
  }
}

socket.on("connect", refresh);
// Coming back to this tab (say, after reading a room in another): the server knows best.
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && socket.connected) refresh();
});

socket.on("message", (message) => {
  if (message.sender.id === myId || message.internal) return;
  show(message.room, (counts.get(message.room) || 0) + 1);
});

socket.on("mention", (notice) => notifyMention(notice));
socket.on("ack_reminder", (notice) => notifyAckReminder(notice));

for (const badge of document.querySelectorAll("li[data-room] .unread")) {
  counts.set(badge.closest("li").dataset.room, Number(badge.dataset.count || 0));
}
title.set(Array.from(counts.values()).reduce((sum, n) => sum + n, 0));
