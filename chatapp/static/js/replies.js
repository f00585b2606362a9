// Replies, on every surface that lists messages (room page, console, widget): the quote a reply
// shows of the message it answers (REPLY_TO: {id, sender, excerpt, deleted}), kept true when
// that message is edited or deleted; the "Reply" button; the bar above the composer that says
// what the next message answers; and the jump from a quote to the message it quotes.
// The server decides what may be answered (services/messages.check_reply_target): the button is
// offered on what this page shows, and a refusal comes back as the send's error. It also makes every
// excerpt (models.Message.excerpt: the text folded and cut, or the names of the pictures and files of a
// message without text); MESSAGE carries it as `excerpt` when it is not simply the body.
import { _ } from "./i18n.js";
import { showInPlace } from "./search.js";

// How a reply quotes MESSAGE, in the server's words.
function excerptOf(message) {
  return message.excerpt ?? message.body ?? "";
}

// Keep a listed message item's excerpt (data-excerpt, as the room page renders it) for replies to it.
export function noteExcerpt(li, message) {
  if (typeof message.excerpt === "string") li.dataset.excerpt = message.excerpt;
  else if (typeof message.body === "string") delete li.dataset.excerpt;
}

function span(className, text) {
  const node = document.createElement("span");
  node.className = className;
  node.textContent = text;
  return node;
}

// Put (or update, or with null remove) the quote of the message a message item answers.
// The same markup as templates/rooms/_message.html renders.
export function renderQuote(li, replyTo) {
  let quote = li.querySelector(":scope > .reply-quote");
  if (!replyTo) {
    quote?.remove();
    return;
  }
  if (!quote) {
    quote = document.createElement("button");
    quote.type = "button";
    quote.className = "reply-quote";
    li.querySelector(":scope > .meta").after(quote);
  }
  quote.dataset.replyTo = String(replyTo.id);
  quote.classList.toggle("deleted", Boolean(replyTo.deleted));
  quote.replaceChildren(
    span("visually-hidden", _("In reply to") + " "),
    span("reply-author", replyTo.sender?.display_name || ""),
    " ",
    span("reply-excerpt", replyTo.deleted ? _("Message deleted") : replyTo.excerpt),
  );
}

// A message was edited or deleted (message_updated, message_deleted): the quotes of it follow.
export function refreshQuotes(list, message) {
  for (const quote of list.querySelectorAll(`.reply-quote[data-reply-to="${Number(message.id)}"]`)) {
    const excerpt = quote.querySelector(".reply-excerpt");
    if (message.deleted) {
      quote.classList.add("deleted");
      excerpt.textContent = _("Message deleted");
    } else if (typeof message.body === "string") {
      excerpt.textContent = excerptOf(message);
    }
  }
}

// What a quote shows of a listed message item, before the server has said it (a pending reply):
// the server's excerpt when the item has one apart from its text, else that text.
function quoteOf(li) {
  const text = li.dataset.excerpt ?? li.dataset.source ?? li.querySelector(":scope > .body")?.textContent ?? "";
  return {
    id: Number(li.dataset.id),
    sender: { display_name: li.querySelector(".meta .sender")?.textContent || "" },
    excerpt: text.trim(),
    deleted: false,
  };
}

// The bar above a composer: "Replying to Bob: …" with a way out (its button, or Escape).
export class ReplyBar {
  constructor({ form, input }) {
    this.input = input;
    this.enabled = !form.hidden; // the page hides the composer of a room one may only read
    this.target = null;
    this.bar = document.createElement("div");
    this.bar.className = "reply-bar";
    this.bar.hidden = true;
    this.text = span("reply-bar-text", "");
    this.text.id = `reply-bar-${Math.random().toString(36).slice(2)}`;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "reply-cancel";
    cancel.setAttribute("aria-label", _("Cancel reply"));
    cancel.textContent = "×";
    cancel.addEventListener("click", () => {
      this.clear();
      input.focus();
    });
    this.bar.append(this.text, cancel);
    form.before(this.bar);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.target) {
        event.stopPropagation();
        this.clear();
      }
    });
  }

  start(li) {
    this.target = quoteOf(li);
    this.text.textContent = _("Replying to {name}: {excerpt}", {
      name: this.target.sender.display_name, excerpt: this.target.excerpt,
    });
    this.bar.hidden = false;
    this.input.setAttribute("aria-describedby", this.text.id);
    this.input.focus();
  }

  clear() {
    this.target = null;
    this.bar.hidden = true;
    this.input.removeAttribute("aria-describedby");
  }

  // The REPLY_TO the next message carries (null: none), and the bar is cleared for the one after.
  take() {
    const target = this.target;
    this.clear();
    return target;
  }
}

// The "Reply" button in a stored message's meta line (not on deleted or pending ones).
export function addReplyButton(li, bar) {
  const existing = li.querySelector(".reply-button");
  if (!bar.enabled || !li.dataset.id || li.classList.contains("deleted") || li.classList.contains("pending")) {
    existing?.remove();
    return;
  }
  if (existing) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link reply-button";
  button.textContent = _("Reply");
  button.setAttribute("aria-label", _("Reply to {name}", { name: li.querySelector(".meta .sender")?.textContent || "" }));
  button.addEventListener("click", () => bar.start(li));
  li.querySelector(".meta").append(button);
}

// A click on a quote goes to the message it quotes: in the list, or `missing(id)` finds it.
export function bindQuoteJumps(list, { missing }) {
  list.addEventListener("click", async (event) => {
    const quote = event.target.closest(".reply-quote");
    if (!quote || quote.classList.contains("deleted")) return;
    const id = Number(quote.dataset.replyTo);
    const find = () => list.querySelector(`li.msg[data-id="${id}"]`);
    const target = find() || ((await missing(id)) && find());
    if (target) showInPlace(target);
  });
}

// For a surface without an ?around= page (console, widget): load older pages until the quoted
// message is there, at most `pages` of them.
export function loadingOlder(list, delivery, button, pages = 10) {
  return async (id) => {
    for (let page = 0; page < pages && !list.querySelector(`li.msg[data-id="${id}"]`); page += 1) {
      const answer = await delivery().loadOlder(button);
      if (!answer.ok || !answer.more) break;
    }
    return true;
  };
}
