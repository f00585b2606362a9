// Pictures and files in the composer: uploaded with XMLHttpRequest (so there is a progress bar
// and a Cancel button, which fetch() cannot give), shown as thumbnails or by name, then sent with
// the next message as `attachments: [id, …]`.
import { _, language, ngettext } from "./i18n.js";

function megabytes(bytes) {
  const value = bytes / (1024 * 1024);
  const number = new Intl.NumberFormat(language(), { maximumFractionDigits: Number.isInteger(value) ? 0 : 1 }).format(value);
  return _("{number} MB", { number });
}

// A file's size as people read it: "512 bytes", "1.5 KB", "12 MB" (the server's file_size filter says the same).
export function fileSize(bytes) {
  if (bytes < 1024) return ngettext("{num} byte", "{num} bytes", bytes, { num: bytes });
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, "KB"] : [bytes / (1024 * 1024), "MB"];
  const number = new Intl.NumberFormat(language(), { maximumFractionDigits: value < 10 ? 1 : 0 }).format(value);
  return unit === "KB" ? _("{number} KB", { number }) : _("{number} MB", { number });
}

export class Uploads {
  constructor({ root, roomSlug, button, fileInput, tray, trayList, input, onChange }) {
    this.roomSlug = roomSlug;
    this.csrf = root.dataset.csrf;
    this.maxBytes = Number(root.dataset.uploadMax || 5 * 1024 * 1024);
    this.maxFileBytes = Number(root.dataset.fileMax || 25 * 1024 * 1024);
    this.tray = tray;
    this.trayList = trayList;
    this.input = input;
    this.onChange = onChange || (() => {});
    this.items = new Map(); // local key -> {state: "uploading"|"ready"|"failed", attachment, xhr, li}
    this.nextKey = 1;
    this.status = document.createElement("p");
    this.status.className = "visually-hidden";
    this.status.setAttribute("role", "status");
    tray.after(this.status);

    button.addEventListener("click", () => fileInput.click());
    fileInput.addEventListener("change", () => {
      for (const file of fileInput.files) this.upload(file);
      fileInput.value = ""; // choosing the same file again still fires change
    });
    // Pasting a picture (a screenshot) uploads it too.
    input.addEventListener("paste", (event) => {
      const files = Array.from(event.clipboardData?.files || []).filter((f) => f.type.startsWith("image/"));
      if (!files.length) return;
      event.preventDefault();
      files.forEach((file) => this.upload(file));
    });
  }

  announce(text) {
    this.status.textContent = text;
  }

  // Whether some upload is still going.
  busy() {
    return Array.from(this.items.values()).some((item) => item.state === "uploading");
  }

  // The uploaded pictures and files, ready to go with a message.
  ready() {
    return Array.from(this.items.values()).filter((item) => item.state === "ready").map((item) => item.attachment);
  }

  // Take the ready pictures and files for a message being sent, and clear them from the tray.
  take() {
    const taken = [];
    for (const [key, item] of this.items) {
      if (item.state !== "ready") continue;
      taken.push(item.attachment);
      this.drop(key);
    }
    return taken;
  }

  drop(key) {
    const item = this.items.get(key);
    if (!item) return;
    item.li.remove();
    this.items.delete(key);
    this.tray.hidden = this.items.size === 0;
    this.onChange();
  }

  upload(file) {
    const key = this.nextKey++;
    const li = document.createElement("li");
    li.className = "upload";
    const name = document.createElement("span");
    name.className = "upload-name";
    const label = file.name || _("file");
    name.textContent = label;
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", _("Uploading {name}", { name: label }));
    const percent = document.createElement("span");
    percent.className = "upload-percent";
    percent.textContent = "0%";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "link";
    cancel.textContent = _("Cancel");
    cancel.setAttribute("aria-label", _("Cancel upload of {name}", { name: label }));
    li.append(name, progress, percent, cancel);
    this.trayList.append(li);
    this.tray.hidden = false;
    const item = { state: "uploading", attachment: null, xhr: null, li };
    this.items.set(key, item);
    this.onChange();

    // The server checks too (and by the bytes, not the browser's type); this only spares the wait.
    if (file.type.startsWith("image/") && file.size > this.maxBytes) {
      this.fail(key, _("A picture can be at most {max}; this one is {size}. Choose a smaller one.", { max: megabytes(this.maxBytes), size: megabytes(file.size) }));
      return;
    }
    if (file.size > this.maxFileBytes) {
      this.fail(key, _("A file can be at most {max}; this one is {size}. Choose a smaller one, or share a link to it.", { max: megabytes(this.maxFileBytes), size: megabytes(file.size) }));
      return;
    }

    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    xhr.open("POST", `/rooms/${encodeURIComponent(this.roomSlug)}/uploads`);
    xhr.setRequestHeader("X-CSRFToken", this.csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const value = Math.round((event.loaded / event.total) * 100);
      progress.value = value;
      percent.textContent = `${value}%`;
    });
    xhr.addEventListener("load", () => {
      const answer = xhr.response || {};
      if (xhr.status === 201 && answer.ok) {
        this.done(key, answer.attachment, answer.note);
      } else {
        this.fail(key, answer.message || _("The upload failed (HTTP {status}). Try again.", { status: xhr.status }));
      }
    });
    xhr.addEventListener("error", () => this.fail(key, _("The upload failed: the connection dropped. Try again.")));
    xhr.addEventListener("abort", () => {
      this.drop(key);
      this.announce(file.name ? _("Upload of {name} cancelled.", { name: file.name }) : _("Upload of the file cancelled."));
    });
    cancel.addEventListener("click", () => xhr.abort());
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  }

  done(key, attachment, note) {
    const item = this.items.get(key);
    if (!item) return;
    item.state = "ready";
    item.attachment = attachment;
    const { li } = item;
    const name = li.querySelector(".upload-name").textContent;
    li.replaceChildren();
    li.classList.add("ready");
    let shown;
    if ((attachment.kind || "image") === "image") {
      shown = document.createElement("img");
      shown.src = attachment.thumb_url;
      shown.alt = _("Picture to send: {name}", { name });
      shown.width = Math.min(attachment.thumb_width, 96);
      shown.height = Math.round((shown.width / attachment.thumb_width) * attachment.thumb_height) || 96;
    } else {
      shown = document.createElement("span");
      shown.className = "upload-name";
      shown.textContent = _("File to send: {name} ({size})", { name: attachment.name, size: fileSize(attachment.size) });
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = _("Remove");
    remove.setAttribute("aria-label", _("Remove {name}", { name }));
    remove.addEventListener("click", () => {
      this.drop(key);
      this.input.focus();
    });
    li.append(shown, remove);
    if (note) {
      const small = document.createElement("span");
      small.className = "upload-note";
      small.textContent = note;
      li.append(small);
    }
    this.announce(_("{name} uploaded. It goes with your next message.", { name }));
    this.onChange();
  }

  fail(key, message) {
    const item = this.items.get(key);
    if (!item) return;
    item.state = "failed";
    const { li } = item;
    li.classList.add("failed");
    li.querySelector("progress")?.remove();
    li.querySelector(".upload-percent")?.remove();
    li.querySelector("button")?.remove();
    const error = document.createElement("span");
    error.className = "upload-error";
    error.setAttribute("role", "alert");
    error.textContent = message;
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "link";
    dismiss.textContent = _("Dismiss");
    dismiss.addEventListener("click", () => this.drop(key));
    li.append(error, dismiss);
    this.onChange();
  }
}
