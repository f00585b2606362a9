// Desktop notifications of @mentions, and the title's unread count while the tab is hidden.
// Permission is asked only when the person clicks "Turn on notifications" (browsers ignore,
// and people resent, a prompt that comes from nowhere).
import { _ } from "./i18n.js";

export function notificationsSupported() {
  return typeof window.Notification === "function";
}

// Show the "Turn on notifications" button while the browser has not been asked yet.
export function setUpNotifyButton(button) {
  if (!button) return;
  const refresh = () => {
    button.hidden = !notificationsSupported() || Notification.permission !== "default";
  };
  refresh();
  button.addEventListener("click", async () => {
    try {
      await Notification.requestPermission();
    } finally {
      refresh();
    }
  });
}

// A desktop notification for a `mention` event, when permitted; clicking it opens the message.
export function notifyMention({ room, message }) {
  if (!notificationsSupported() || Notification.permission !== "granted") return null;
  const text = message.body || (message.attachments?.length ? _("(a picture)") : "");
  const notice = new Notification(mentionText({ room, message }), {
    body: text.length > 140 ? `${text.slice(0, 139)}…` : text,
    tag: `chatapp-mention-${message.id}`,
  });
  notice.addEventListener("click", () => {
    window.focus();
    window.location.assign(`/rooms/${encodeURIComponent(room.slug)}?around=${message.id}`);
  });
  return notice;
}

// "Alice mentioned you in Lobby": the title of a mention's notification, and its notice on the page.
export function mentionText({ room, message }) {
  const name = message.sender.display_name;
  return room.kind === "direct"
    ? _("{name} mentioned you in a direct message", { name })
    : _("{name} mentioned you in {room}", { name, room: room.name });
}

// The tab's icon with a dot (unread messages) or without: base.html's <link rel=icon> names both.
export function showUnreadDot(on) {
  const icon = document.querySelector('link[rel="icon"][data-unread-href]');
  if (!icon) return;
  icon.dataset.readHref ||= icon.getAttribute("href");
  const href = on ? icon.dataset.unreadHref : icon.dataset.readHref;
  if (icon.getAttribute("href") !== href) icon.setAttribute("href", href);
}

// "(3) Lobby · chatapp", and the dot on the tab's icon: the count of messages that came while
// the tab was hidden.
export class TitleCounter {
  constructor() {
    this.base = document.title;
    this.count = 0;
  }

  set(count) {
    this.count = count;
    document.title = count > 0 ? `(${count}) ${this.base}` : this.base;
    showUnreadDot(count > 0);
  }

  add(n = 1) {
    this.set(this.count + n);
  }
}

// "Ms Rivera reminds you to acknowledge an announcement in Maths 7B": an `ack_reminder` event's
// desktop notification, when permitted, and its text on the page; clicking it opens the class.
export function ackReminderText({ room, by }) {
  return _("{name} reminds you to acknowledge an announcement in {room}.", { name: by.display_name, room: room.name });
}

export function notifyAckReminder(notice) {
  if (!notificationsSupported() || Notification.permission !== "granted") return null;
  const text = notice.message.body || "";
  const shown = new Notification(ackReminderText(notice), {
    body: text.length > 140 ? `${text.slice(0, 139)}…` : text,
    tag: `chatapp-ack-${notice.message.id}`,
  });
  shown.addEventListener("click", () => {
    window.focus();
    window.location.assign(`/rooms/${encodeURIComponent(notice.room.slug)}`);
  });
  return shown;
}
