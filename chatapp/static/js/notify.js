// Desktop notifications of @mentions, and the title's unread count while the tab is hidden.
// Permission is asked only when the person clicks "Turn on notifications" (browsers ignore,
// and people resent, a prompt that comes from nowhere).

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
  const where = room.kind === "direct" ? "a direct message" : room.name;
  const text = message.body || (message.attachments?.length ? "(a picture)" : "");
  const notice = new Notification(`${message.sender.display_name} mentioned you in ${where}`, {
    body: text.length > 140 ? `${text.slice(0, 139)}…` : text,
    tag: `chatapp-mention-${message.id}`,
  });
  notice.addEventListener("click", () => {
    window.focus();
    window.location.assign(`/rooms/${encodeURIComponent(room.slug)}?around=${message.id}`);
  });
  return notice;
}

// "(3) Lobby · chatapp": the count of messages that came while the tab was hidden.
export class TitleCounter {
  constructor() {
    this.base = document.title;
    this.count = 0;
  }

  set(count) {
    this.count = count;
    document.title = count > 0 ? `(${count}) ${this.base}` : this.base;
  }

  add(n = 1) {
    this.set(this.count + n);
  }
}
