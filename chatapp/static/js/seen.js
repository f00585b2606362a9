// "Seen by" on the room page (not in direct rooms, whose own messages say "Read"): on one's own
// messages, and on every message for the room's moderators, a button that asks the server who of
// the room's members has read it (the `seen_by` event; services/receipts.py) and shows both lists.
// The server decides who may ask; the page offers the button where it would answer.
import { _ } from "./i18n.js";

function names(users) {
  return users.map((user) => user.display_name).join(", ");
}

export class SeenBy {
  constructor({ request, roomSlug, myId, mayModerate }) {
    this.request = request;
    this.roomSlug = roomSlug;
    this.myId = myId;
    this.mayModerate = mayModerate; // () => whether this viewer moderates the room now
  }

  offer(li) {
    const mine = Number(li.dataset.senderId) === this.myId;
    const existing = li.querySelector(".seen-button");
    if (!li.dataset.id || li.classList.contains("deleted") || li.classList.contains("note") || !(mine || this.mayModerate())) {
      existing?.remove();
      return;
    }
    if (existing) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link seen-button";
    button.textContent = _("Seen by");
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", () => this.toggle(li, button));
    li.querySelector(".meta").append(button);
  }

  async toggle(li, button) {
    const open = li.querySelector(":scope > .seen-panel");
    if (open) {
      open.remove();
      button.setAttribute("aria-expanded", "false");
      return;
    }
    const panel = document.createElement("div");
    panel.className = "seen-panel";
    panel.setAttribute("role", "status");
    panel.textContent = _("Loading…");
    li.append(panel);
    button.setAttribute("aria-expanded", "true");
    const answer = await this.request("seen_by", { room: this.roomSlug, id: Number(li.dataset.id) });
    if (!answer.ok) {
      panel.textContent = answer.message;
      return;
    }
    const heading = document.createElement("p");
    heading.className = "seen-count";
    heading.textContent = _("Seen by {seen} of {total}", { seen: answer.seen.length, total: answer.total });
    const seen = document.createElement("p");
    // Each word marked on its own line: the extractor skips a _() nested in another's arguments.
    const seenNames = answer.seen.length ? names(answer.seen) : _("Nobody yet.");
    seen.textContent = _("Seen by: {names}", { names: seenNames });
    const unseen = document.createElement("p");
    unseen.className = "seen-missing";
    const unseenNames = answer.unseen.length ? names(answer.unseen) : _("Everybody.");
    unseen.textContent = _("Not seen yet: {names}", { names: unseenNames });
    panel.replaceChildren(heading, seen, unseen);
  }
}
