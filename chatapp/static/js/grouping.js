// How a message list reads: messages grouped by sender, a day separator before each day's first
// message, and an initials avatar on each message. The one place these rules live: the server
// renders plain <li class="msg"> items, and every list (room, support thread, widget) is arranged
// here, on load and after each change (watchMessages), whoever inserted the items.
//
// A message continues its group (class "grouped": no name or avatar shown, a compact line) when
// the message before it has the same sender, the same day and came less than GROUP_GAP_MS before.

import { language } from "./i18n.js";

export const GROUP_GAP_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
// Avatar backgrounds: white initials on each have at least 5:1 contrast (WCAG AA), light or dark.
const AVATAR_COLOURS = 8;

// "AB" for "Ada Byron", "A" for "ada", "王" for "王小明": the first letters of the first two words,
// or the first character alone for a name written in CJK (no spaces between its words).
export function initials(name) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  const first = Array.from(words[0])[0];
  if (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(first)) return first;
  const second = words.length > 1 ? Array.from(words[1])[0] : "";
  return (first + second).toLocaleUpperCase(language());
}

// Which of the avatar colours a sender gets: a stable hash of their id (or name, without one).
export function avatarColour(key) {
  let hash = 0;
  for (const char of String(key)) hash = (Math.imul(hash, 31) + char.codePointAt(0)) >>> 0;
  return hash % AVATAR_COLOURS;
}

// The round initials badge of a message; hidden from screen readers, which read the name.
function ensureAvatar(li) {
  const name = li.querySelector(".meta .sender")?.textContent || "";
  let avatar = li.querySelector(":scope > .avatar");
  if (!avatar) {
    avatar = document.createElement("span");
    avatar.className = "avatar";
    avatar.setAttribute("aria-hidden", "true");
    li.prepend(avatar);
  }
  const text = initials(name);
  if (avatar.textContent !== text) avatar.textContent = text;
  const colour = String(avatarColour(li.dataset.senderId || name));
  if (avatar.dataset.colour !== colour) avatar.dataset.colour = colour;
}

function sentAt(li) {
  const time = li.querySelector(".meta time[datetime]");
  const when = time ? new Date(time.getAttribute("datetime")) : new Date();
  return Number.isNaN(when.getTime()) ? new Date() : when;
}

function dayKey(when) {
  return `${when.getFullYear()}-${when.getMonth() + 1}-${when.getDate()}`;
}

// "Today", "Yesterday", "Monday, 3 November" (this year) or "3 November 2025", in the page's language.
export function dayLabel(when, now = new Date()) {
  const lang = language();
  const midnight = (date) => new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  const days = Math.round((midnight(now) - midnight(when)) / DAY_MS);
  if (days === 0 || days === 1) {
    const word = new Intl.RelativeTimeFormat(lang, { numeric: "auto" }).format(-days, "day");
    return word.charAt(0).toLocaleUpperCase(lang) + word.slice(1);
  }
  const options = when.getFullYear() === now.getFullYear()
    ? { weekday: "long", month: "long", day: "numeric" }
    : { year: "numeric", month: "long", day: "numeric" };
  return new Intl.DateTimeFormat(lang, options).format(when);
}

// A day separator: a list item that is not a message (li.day-separator, never li.msg), hidden
// from screen readers so that the live log does not announce it; each <time> has the full date.
function separator(day, label) {
  const li = document.createElement("li");
  li.className = "day-separator";
  li.setAttribute("aria-hidden", "true");
  li.dataset.day = day;
  const text = document.createElement("span");
  text.textContent = label;
  li.append(text);
  return li;
}

// Arrange the whole list: separators where a day starts (and nowhere else), groups, avatars.
// Changes only what is wrong, so running it again right away changes nothing.
export function arrangeMessages(list, now = new Date()) {
  let previous = null; // { sender, when, day }
  for (const li of Array.from(list.querySelectorAll(":scope > li.msg"))) {
    const when = sentAt(li);
    const day = dayKey(when);
    const sender = li.dataset.senderId || li.querySelector(".meta .sender")?.textContent || "";
    let before = li.previousElementSibling;
    // Separators left over from an earlier arrangement go; the one right before stays if right.
    while (before?.classList.contains("day-separator") && before.previousElementSibling?.classList.contains("day-separator")) {
      before.previousElementSibling.remove();
    }
    const hasSeparator = before?.classList.contains("day-separator");
    if (!previous || previous.day !== day) {
      const label = dayLabel(when, now);
      if (!hasSeparator) li.before(separator(day, label));
      else if (before.dataset.day !== day || before.textContent !== label) before.replaceWith(separator(day, label));
    } else if (hasSeparator) {
      before.remove();
    }
    const grouped = Boolean(previous) && previous.day === day && previous.sender === sender
      && when - previous.when >= 0 && when - previous.when < GROUP_GAP_MS;
    if (li.classList.contains("grouped") !== grouped) li.classList.toggle("grouped", grouped);
    ensureAvatar(li);
    previous = { sender, when, day };
  }
  // A separator with no message after it (its messages were removed) goes too.
  for (const sep of Array.from(list.querySelectorAll(":scope > li.day-separator"))) {
    if (!sep.nextElementSibling?.matches("li.msg")) sep.remove();
  }
  list.dataset.arranged = "";
}

// Arrange list now, and again after every change to its items (before the browser paints).
export function watchMessages(list) {
  arrangeMessages(list);
  // The observer's own changes call it once more, which finds nothing left to change.
  new MutationObserver(() => arrangeMessages(list)).observe(list, { childList: true });
  // "Today" and "Yesterday" move at midnight: look once a minute (and when the tab comes back)
  // whether the day changed, and only then arrange again.
  let day = dayKey(new Date());
  const recheck = () => {
    const today = dayKey(new Date());
    if (today === day) return;
    day = today;
    arrangeMessages(list);
  };
  setInterval(recheck, 60 * 1000);
  document.addEventListener("visibilitychange", recheck);
}
