// The scripts' words in the page's language. The server puts the `js` catalogue of the page's
// locale in <script type="application/json" id="i18n-catalogue"> (a data block: never run);
// an English page has none, and every text is its English msgid. Placeholders are {name}:
//   _("{name} is typing…", { name })
//   ngettext("{count} message", "{count} messages", count, { count })
//   pgettext("conversation status", "Open")
// `make translations` extracts these calls (babel-js.cfg) into translations/*/LC_MESSAGES/js.po.

let catalogue = null;

function load() {
  if (catalogue === null) {
    catalogue = { messages: {}, nplurals: 2 };
    const block = document.getElementById("i18n-catalogue");
    if (block) {
      try {
        const parsed = JSON.parse(block.textContent);
        if (parsed && typeof parsed.messages === "object") catalogue = parsed;
      } catch {
        // A broken block: English it is, rather than no page at all.
      }
    }
  }
  return catalogue;
}

// The page's language (<html lang>, e.g. "zh-CN"): what dates and numbers are formatted in,
// whatever the browser's own language is.
export function language() {
  return document.documentElement.lang || "en";
}

// text with each {key} replaced by values[key]; unknown keys stay as they are.
export function format(text, values) {
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

// The translation of msgid (English when there is none), with its {placeholders} filled in.
export function _(msgid, values) {
  const found = load().messages[msgid];
  return format(typeof found === "string" && found ? found : msgid, values);
}

// Which plural form n takes: one form (Chinese), or English's two (n == 1, else the other);
// any other two-form language by its CLDR rule.
function pluralIndex(n, nplurals) {
  if (nplurals <= 1) return 0;
  return new Intl.PluralRules(language()).select(n) === "one" ? 0 : 1;
}

// msgid as meant in context (when one English word needs two translations, e.g. "Open" the
// link and "Open" the conversation status): pgettext("conversation status", "Open").
export function pgettext(context, msgid, values) {
  const found = load().messages[`${context}\u0004${msgid}`];
  return format(typeof found === "string" && found ? found : msgid, values);
}

// The form of singular/plural for the count n, translated, with {placeholders} filled in.
export function ngettext(singular, plural, n, values) {
  const { messages, nplurals } = load();
  const forms = messages[singular];
  if (Array.isArray(forms) && forms.length) {
    const index = Math.min(pluralIndex(n, nplurals), forms.length - 1);
    if (forms[index]) return format(forms[index], values);
  }
  return format(n === 1 ? singular : plural, values);
}
