// The archive page (templates/rooms/archive.html): an export under way is followed until it is done,
// its progress bar and words moving; once done (or failed) the server draws the page anew with the
// download link. Nothing here decides anything: the server's EXPORT says how far it is.
import { _ } from "./i18n.js";

const POLL_MS = 1000;

async function follow(item) {
  const bar = item.querySelector("progress");
  const words = item.querySelector(".export-progress");
  for (;;) {
    await new Promise((done) => setTimeout(done, POLL_MS));
    let answer;
    try {
      const response = await fetch(item.dataset.statusUrl, { headers: { Accept: "application/json" } });
      answer = await response.json();
    } catch {
      continue; // offline a moment: ask again
    }
    if (!answer.ok) {
      words.textContent = answer.message;
      return;
    }
    const { state, done, total } = answer.export;
    if (state === "done" || state === "failed") {
      location.reload();
      return;
    }
    bar.max = total || 1;
    bar.value = done;
    words.textContent = state === "queued"
      ? _("Waiting to start…")
      : _("{done} of {total} messages written", { done: done.toLocaleString(), total: total.toLocaleString() });
  }
}

for (const item of document.querySelectorAll("#export-list li[data-state=queued], #export-list li[data-state=running]")) {
  follow(item);
}
