// The composer's emoji picker: plain Unicode emoji (no images), inserted at the cursor.
// A small dialog of buttons: arrow keys move, Enter or a click inserts, Escape closes.
import { _ } from "./i18n.js";

const EMOJI = [
  ["😀", _("grinning face")], ["😂", _("face with tears of joy")], ["🙂", _("slightly smiling face")], ["😉", _("winking face")],
  ["😍", _("smiling face with heart-eyes")], ["🤔", _("thinking face")], ["😮", _("face with open mouth")], ["😢", _("crying face")],
  ["😅", _("grinning face with sweat")], ["😎", _("smiling face with sunglasses")], ["🙃", _("upside-down face")], ["😴", _("sleeping face")],
  ["👍", _("thumbs up")], ["👎", _("thumbs down")], ["👏", _("clapping hands")], ["🙌", _("raising hands")],
  ["🙏", _("folded hands")], ["👋", _("waving hand")], ["✋", _("raised hand")], ["💪", _("flexed biceps")],
  ["❤️", _("red heart")], ["🎉", _("party popper")], ["🔥", _("fire")], ["⭐", _("star")],
  ["✅", _("check mark")], ["❌", _("cross mark")], ["❓", _("question mark")], ["❗", _("exclamation mark")],
  ["💡", _("light bulb")], ["📚", _("books")], ["📝", _("memo")], ["📎", _("paperclip")],
  ["⏰", _("alarm clock")], ["☕", _("hot beverage")], ["🍕", _("pizza")], ["🎂", _("birthday cake")],
  ["🚀", _("rocket")], ["🌟", _("glowing star")], ["🌈", _("rainbow")], ["👀", _("eyes")],
];
const COLUMNS = 8;

export class EmojiPicker {
  constructor({ button, panel, input }) {
    this.button = button;
    this.panel = panel;
    this.input = input;
    this.buttons = EMOJI.map(([emoji, name], index) => {
      const choice = document.createElement("button");
      choice.type = "button";
      choice.className = "emoji";
      choice.textContent = emoji;
      choice.title = name;
      choice.setAttribute("aria-label", name);
      choice.tabIndex = index === 0 ? 0 : -1;
      choice.addEventListener("click", () => this.insert(emoji));
      return choice;
    });
    const grid = document.createElement("div");
    grid.className = "emoji-grid";
    grid.setAttribute("role", "group");
    grid.setAttribute("aria-label", _("Choose an emoji"));
    grid.append(...this.buttons);
    panel.append(grid);

    button.addEventListener("click", () => (panel.hidden ? this.open() : this.close()));
    panel.addEventListener("keydown", (event) => this.onKey(event));
    document.addEventListener("click", (event) => {
      if (!panel.hidden && !panel.contains(event.target) && !button.contains(event.target)) this.close(false);
    });
  }

  open() {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    (this.buttons.find((b) => b.tabIndex === 0) || this.buttons[0]).focus();
  }

  close(returnFocus = true) {
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (returnFocus) this.button.focus();
  }

  // Put the emoji where the cursor is (replacing a selection), as if typed.
  insert(emoji) {
    const { input } = this;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.setRangeText(emoji, start, end, "end");
    this.close(false);
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  onKey(event) {
    const current = this.buttons.indexOf(document.activeElement);
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS, Home: -Infinity, End: Infinity };
    if (event.key === "Escape") {
      event.preventDefault();
      this.close();
      return;
    }
    if (!(event.key in moves) || current < 0) return;
    event.preventDefault();
    const next = Math.max(0, Math.min(this.buttons.length - 1, current + moves[event.key]));
    this.buttons[current].tabIndex = -1;
    this.buttons[next].tabIndex = 0;
    this.buttons[next].focus();
  }
}
