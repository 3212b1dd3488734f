// Never lose a word: items are kept on this phone until the server has them.
//
// Loaded on every page for people who log feedback (base.html). Without it the add-item form
// posts as usual; with it:
//
// - An item is written to IndexedDB on this phone BEFORE it is sent, with a key made here, and
//   leaves only when the server has answered for it. The server keeps one row per key, so a
//   retry after a dropped answer, a double tap or a second tab never makes a duplicate.
// - Offline, an expired session or a server error keep the item; it is sent again when the
//   phone comes back online, when any page for this person opens, when the tab is shown again,
//   and on a timer that backs off. An expired CSRF token is swapped for a fresh one, once.
// - Only two things take an unsent item off the phone: the person removing it, or, while the
//   form is still waiting for it, an answer that it can never be saved as it is (422); then it
//   stays in the form with the errors shown. Items refused later, after the form moved on,
//   stay on the phone, marked, until the person puts them back in the form or removes them.
// - The items are tagged with who saved them: another person signing in on the same phone
//   never sends them under their name, and never sees them.
// - The service worker (capture-sw.js) is registered from capture pages, so those pages open
//   offline too. Signing out deletes the pages it kept; items waiting to send stay.
import { ErrorSummary } from "../govuk/govuk-frontend.min.js";

const script = document.querySelector("script[data-capture-offline]");
const config = {
  user: script.dataset.user,
  scope: script.dataset.scope,
  swUrl: script.dataset.swUrl,
  csrfUrl: script.dataset.csrfUrl,
  signInUrl: script.dataset.signInUrl,
  signOutUrl: script.dataset.signOutUrl,
};

const DB_NAME = "ysyd-capture";
const STORE = "items";
// Where capture-sw.js keeps the private pages it saved for offline use.
const PAGES_CACHE = "ysyd-capture-pages-v1";
// How long the form waits for the server before it moves on and leaves the item in the queue.
const LIVE_WAIT_MS = 8000;
const MAX_BACKOFF_MS = 60000;
const TIMED_OUT = Symbol("timed out");

const form = document.querySelector("form[data-offline-capture]");
const messages = form ? JSON.parse(form.dataset.messages || "{}") : {};
const pageEventId = form ? form.dataset.eventId : null;

const state = {
  csrfToken: document.querySelector('input[name="csrf_token"]')?.value || null,
  signedOut: false,
  // The last attempt could not reach the server, though the phone may say it is online.
  unreachable: false,
  failures: 0,
  retryTimer: null,
  flushing: null,
  flushAgain: false,
  inFlight: new Set(),
  // Say "All sent" only once something was saved or waiting in this page's lifetime.
  active: false,
  count: null,
  restoringKey: null,
  saving: false,
  // "direct": the last item went straight to the server; "queued": it waited on the phone.
  lastSave: null,
  listStale: false,
  // How many items this person has on the phone, as last read.
  kept: 0,
};

// IndexedDB: one store of items, keyed by their idempotency key, indexed by who saved them.

let database = null;

function openDatabase() {
  if (!database) {
    database = new Promise((resolve, reject) => {
      if (!("indexedDB" in window)) {
        reject(new Error("IndexedDB is not available"));
        return;
      }
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const store = request.result.createObjectStore(STORE, { keyPath: "key" });
        store.createIndex("user", "user");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("IndexedDB is blocked by another tab"));
    });
    database.catch(() => {
      database = null;
    });
  }
  return database;
}

async function write(change) {
  const db = await openDatabase();
  return new Promise((resolve, reject) => {
    // "strict": written to disk before we tell the person it is kept.
    const transaction = db.transaction(STORE, "readwrite", { durability: "strict" });
    change(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error || new Error("Not saved on this phone"));
  });
}

async function readItems() {
  const db = await openDatabase();
  return new Promise((resolve, reject) => {
    const request = db.transaction(STORE).objectStore(STORE).index("user").getAll(config.user);
    request.onsuccess = () => resolve(request.result.sort((a, b) => a.savedAt - b.savedAt));
    request.onerror = () => reject(request.error);
  });
}

async function readItemsOrNone() {
  try {
    return await readItems();
  } catch {
    return [];
  }
}

function newKey() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  // randomUUID needs a secure context; 128 random bits as hex are as good a key.
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");
}

// Talking to the server

async function freshToken() {
  const response = await fetch(config.csrfUrl, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
    cache: "no-store",
  });
  if (response.status === 401) {
    state.signedOut = true;
    return null;
  }
  const body = response.ok ? await response.json().catch(() => ({})) : {};
  state.csrfToken = typeof body.csrf_token === "string" ? body.csrf_token : null;
  return state.csrfToken;
}

function post(item) {
  return fetch(item.endpoint, {
    method: "POST",
    credentials: "same-origin",
    cache: "no-store",
    // A redirect is never an answer about the item (a sign-in page, a captive wifi portal).
    redirect: "manual",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-CSRFToken": state.csrfToken || "",
    },
    body: JSON.stringify({ ...item.payload, idempotency_key: item.key }),
  });
}

// One attempt (two if the CSRF token had gone stale). Never throws; says what happened:
// sent, invalid (422), refused (this person may never save it here), signedOut, or retry.
async function send(item) {
  try {
    let response = null;
    let body = {};
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (!state.csrfToken && !(await freshToken())) {
        return { outcome: state.signedOut ? "signedOut" : "retry" };
      }
      response = await post(item);
      body = await response.json().catch(() => ({}));
      if (response.status === 400 && body.csrf_expired) {
        state.csrfToken = null;
        continue;
      }
      break;
    }
    if (response.ok && Number.isInteger(body.id)) {
      state.unreachable = false;
      state.signedOut = false;
      return { outcome: "sent", body };
    }
    if (response.type === "opaqueredirect" || response.ok) {
      // Not our server's answer: something between the phone and it. Keep it and try later.
      state.unreachable = true;
      return { outcome: "retry" };
    }
    state.unreachable = false;
    if (response.status === 401) {
      state.signedOut = true;
      return { outcome: "signedOut" };
    }
    if (response.status === 422 && body.errors) {
      return { outcome: "invalid", errors: body.errors };
    }
    if ([400, 403, 404, 409].includes(response.status) && !body.csrf_expired) {
      return { outcome: "refused", status: response.status };
    }
    return { outcome: "retry" };
  } catch {
    // No network, or the connection dropped: the server may or may not have it. The key
    // makes sending it again safe either way.
    state.unreachable = true;
    return { outcome: "retry" };
  }
}

const REFUSED = {
  403: "You can no longer add items to this event.",
  404: "This event is no longer there.",
};

function describeErrors(errors) {
  return Object.values(errors).join(". ");
}

// What to do with the queue after an attempt that the form is no longer waiting for.
async function settle(item, result) {
  if (result.outcome === "sent") {
    state.failures = 0;
    if (item.eventId === pageEventId && typeof result.body.count === "number") {
      state.count = result.body.count;
      state.listStale = true;
    }
    await write((store) => store.delete(item.key));
  } else if (result.outcome === "invalid" || result.outcome === "refused") {
    const problem =
      result.outcome === "invalid"
        ? describeErrors(result.errors)
        : REFUSED[result.status] || "The server would not take this item.";
    await write((store) => store.put({ ...item, state: "stuck", problem }));
  } else {
    scheduleRetry();
  }
}

async function sendAndSettle(item) {
  state.inFlight.add(item.key);
  try {
    const result = await send(item);
    await settle(item, result);
    return result;
  } finally {
    state.inFlight.delete(item.key);
  }
}

function scheduleRetry() {
  state.failures += 1;
  const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (state.failures - 1));
  // A little jitter, so phones at one venue do not all come back at the same moment.
  const delay = base * (0.8 + Math.random() * 0.4);
  clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(flush, delay);
}

async function sendWaiting() {
  const items = (await readItems()).filter(
    (item) => item.state === "waiting" && !state.inFlight.has(item.key),
  );
  if (items.length) {
    state.active = true;
  }
  for (const item of items) {
    if (!navigator.onLine) {
      break;
    }
    const result = await sendAndSettle(item);
    if (result.outcome === "sent") {
      state.lastSave = "queued";
    }
    await render();
    if (result.outcome === "retry" || result.outcome === "signedOut") {
      // The rest would fail the same way; try again later, oldest first.
      break;
    }
  }
}

// Send everything waiting, one at a time, oldest first. Calls while a send is running ask for
// one more pass after it, so nothing saved meanwhile waits for the timer.
function flush() {
  if (state.flushing) {
    state.flushAgain = true;
    return state.flushing;
  }
  const run = async () => {
    do {
      state.flushAgain = false;
      // One tab at a time, where the browser can say so; the keys make a clash harmless anyway.
      if (navigator.locks) {
        await navigator.locks.request("ysyd-capture-send", sendWaiting);
      } else {
        await sendWaiting();
      }
    } while (state.flushAgain);
  };
  state.flushing = run()
    .catch(() => undefined)
    .finally(() => {
      state.flushing = null;
      render();
    });
  return state.flushing;
}

// What the page shows

function plural(count, one, many) {
  return count === 1 ? one : many;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  for (const child of children) {
    node.append(child);
  }
  return node;
}

function statusRegion(needed) {
  let region = document.querySelector("[data-capture-status]");
  if (!region && needed) {
    // A page without a place for it (the events list, your work): make one at the top.
    region = element("div", {
      class: "app-capture-status",
      role: "status",
      "aria-live": "polite",
      "data-capture-status": "",
    });
    document.querySelector("main")?.prepend(region);
  }
  return region;
}

function statusContent(waiting, stuck) {
  const parts = [];
  let tone = "info";
  if (waiting.length && state.signedOut) {
    const next = encodeURIComponent(location.pathname + location.search);
    const link = element(
      "a",
      {
        class: "govuk-notification-banner__link",
        href: `${config.signInUrl}?next=${next}`,
        target: "_blank",
        rel: "noopener",
      },
      `Sign in again to send ${waiting.length} ${plural(waiting.length, "item", "items")}`,
      " (opens in new tab)",
    );
    parts.push(link, ". They are kept on this phone until then.");
  } else if (waiting.length && (!navigator.onLine || state.unreachable)) {
    parts.push(
      `Offline: ${waiting.length} saved on this phone, ` +
        `${plural(waiting.length, "it", "they")} will be sent when you are back online.`,
    );
  } else if (waiting.length) {
    parts.push(`${waiting.length} waiting to send.`);
  } else if (!navigator.onLine) {
    // Said before the first save, so nobody wonders whether the next one will be lost.
    parts.push("Offline: you can keep adding items. They are kept on this phone and sent when you are back online.");
  } else if (!stuck.length && state.active) {
    tone = "success";
    const count =
      state.count === null
        ? ""
        : ` This event has ${state.count} ${plural(state.count, "item", "items")}.`;
    // Straight to the server, it reads as the page without JavaScript says it.
    parts.push(`${state.lastSave === "direct" ? "Saved." : "All sent."}${count}`);
  }
  if (stuck.length) {
    tone = "info";
    parts.push(
      `${parts.length ? " " : ""}${stuck.length} could not be sent: ` +
        "see the list of items on this phone.",
    );
  }
  return { tone, parts };
}

function renderStatus(waiting, stuck) {
  const { tone, parts } = statusContent(waiting, stuck);
  const region = statusRegion(parts.length > 0);
  if (!region) {
    return;
  }
  const text = parts.map((part) => (typeof part === "string" ? part : part.textContent)).join("");
  if (region.dataset.text === text) {
    // Unchanged: do not make a screen reader say it again.
    return;
  }
  region.dataset.text = text;
  region.replaceChildren();
  if (parts.length) {
    // A notification banner without its own role: the region around it is the live one.
    const success = tone === "success" ? " govuk-notification-banner--success" : "";
    const banner = element(
      "div",
      { class: `govuk-notification-banner${success}` },
      element(
        "div",
        { class: "govuk-notification-banner__content" },
        element("p", { class: "govuk-notification-banner__heading" }, ...parts),
      ),
    );
    region.append(banner);
  }
}

function renderCount() {
  const counter = document.getElementById("item-count");
  if (!counter || state.count === null) {
    return;
  }
  counter.replaceChildren(
    element("strong", {}, String(state.count)),
    ` ${plural(state.count, "item", "items")} logged at this event`,
  );
}

function describe(item) {
  const labels = [item.labels?.respondent, item.labels?.sentiment].filter(Boolean);
  if (item.eventId !== pageEventId && item.eventName) {
    labels.push(`at ${item.eventName}`);
  }
  return labels.join(" · ");
}

function renderList(items) {
  const container = document.querySelector("[data-capture-waiting]");
  if (!container) {
    return;
  }
  container.replaceChildren();
  if (!items.length) {
    return;
  }
  const list = element("ol", { class: "govuk-list app-item-list app-waiting-list" });
  for (const [index, item] of items.entries()) {
    const entry = element(
      "li",
      { class: "app-theme-card" },
      element("p", { class: "govuk-body app-raw-text" }, item.payload.text),
      element("p", { class: "govuk-body-s app-meta govuk-!-margin-bottom-1" }, describe(item)),
    );
    const number = ` item ${index + 1}`;
    if (item.state === "stuck") {
      entry.append(
        element(
          "p",
          { class: "govuk-error-message" },
          element("span", { class: "govuk-visually-hidden" }, "Error: "),
          `Not sent: ${item.problem}`,
        ),
      );
      const actions = element("div", { class: "govuk-button-group" });
      if (form && item.eventId === pageEventId) {
        actions.append(
          element(
            "button",
            {
              type: "button",
              class: "govuk-button govuk-button--secondary",
              "data-restore": item.key,
            },
            "Put it back in the form",
            element("span", { class: "govuk-visually-hidden" }, number),
          ),
        );
      } else if (item.pageUrl) {
        actions.append(
          element(
            "a",
            { class: "govuk-link", href: item.pageUrl },
            "Open the event to fix it",
            element("span", { class: "govuk-visually-hidden" }, number),
          ),
        );
      }
      actions.append(
        element(
          "button",
          { type: "button", class: "govuk-button govuk-button--warning", "data-discard": item.key },
          "Remove from this phone",
          element("span", { class: "govuk-visually-hidden" }, number),
        ),
      );
      entry.append(actions);
    } else {
      entry.append(
        element(
          "p",
          { class: "govuk-body-s govuk-!-margin-bottom-0" },
          element("strong", { class: "govuk-tag govuk-tag--yellow" }, "Waiting to send"),
        ),
      );
    }
    list.append(entry);
  }
  container.append(
    element("h2", { class: "govuk-heading-m" }, "Kept on this phone"),
    element(
      "p",
      { class: "govuk-body" },
      "These items are saved on this phone and have not reached the server yet. " +
        "Closing this page does not lose them.",
    ),
    list,
  );
}

// The server draws the list of items sent; after sends, ask it for the page again and take
// that part, so the new items show with their links as after a page load.
async function refreshSentItems() {
  const here = document.querySelector("[data-capture-items]");
  if (!here || !state.listStale || !navigator.onLine) {
    return;
  }
  state.listStale = false;
  try {
    const response = await fetch(location.pathname, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" },
    });
    if (!response.ok || response.redirected) {
      return;
    }
    const fresh = new DOMParser()
      .parseFromString(await response.text(), "text/html")
      .querySelector("[data-capture-items]");
    if (fresh) {
      const nodes = Array.from(fresh.childNodes, (node) => document.importNode(node, true));
      here.replaceChildren(...nodes);
    }
  } catch {
    state.listStale = true;
  }
}

let rendering = Promise.resolve();

function render() {
  // One at a time, so an older reading of the queue never overwrites a newer one.
  rendering = rendering
    .then(async () => {
      const items = await readItemsOrNone();
      const waiting = items.filter((item) => item.state === "waiting");
      const stuck = items.filter((item) => item.state === "stuck");
      state.kept = items.length;
      if (items.length) {
        state.active = true;
      }
      renderStatus(waiting, stuck);
      renderCount();
      renderList(items);
      if (!waiting.length && !state.flushing) {
        await refreshSentItems();
      }
    })
    .catch(() => undefined);
  return rendering;
}

// The add-item form

function fieldsOf(target) {
  const data = new FormData(target);
  const text = (name) => String(data.get(name) ?? "");
  const wantsReply = data.has("wants_reply");
  return {
    text: text("text"),
    respondent: data.get("respondent") || null,
    sentiment: data.get("sentiment") || null,
    priorities: data.getAll("priorities").map(Number),
    age_phase: data.get("age_phase") || null,
    need_types: data.getAll("need_types").map(String),
    setting: text("setting"),
    may_quote: data.has("may_quote"),
    wants_reply: wantsReply,
    email: wantsReply ? text("email") : "",
    phone: wantsReply ? text("phone") : "",
  };
}

const UK_PHONE = /^(?:0|\+44)\d{9,10}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// The checks the server makes that a phone can make alone, with the server's own words, so an
// item that could never be saved is not kept to fail later.
function problemsWith(fields) {
  const problems = [];
  const text = fields.text.trim();
  if (!text) {
    problems.push(["text", messages.text]);
  } else if (text.length > messages.text_max) {
    problems.push(["text", messages.text_too_long]);
  }
  if (!fields.respondent) {
    problems.push(["respondent", messages.respondent]);
  }
  if (!fields.sentiment) {
    problems.push(["sentiment", messages.sentiment]);
  }
  if (fields.wants_reply) {
    const email = fields.email.trim();
    const phone = fields.phone.replace(/[\s().-]/g, "");
    if (!email && !phone) {
      problems.push(["email", messages.contact]);
    }
    if (email && !EMAIL.test(email)) {
      problems.push(["email", messages.email]);
    }
    if (phone && !UK_PHONE.test(phone)) {
      problems.push(["phone", messages.phone]);
    }
  }
  return problems;
}

function firstControl(name) {
  return form.querySelector(`[name="${CSS.escape(name)}"]`);
}

function clearErrors() {
  document.querySelectorAll(".govuk-error-summary").forEach((summary) => summary.remove());
  form.querySelectorAll(".govuk-error-message").forEach((message) => message.remove());
  form.querySelectorAll(".govuk-form-group--error").forEach((group) => {
    group.classList.remove("govuk-form-group--error");
  });
  form.querySelectorAll(".govuk-textarea--error, .govuk-input--error").forEach((control) => {
    control.classList.remove("govuk-textarea--error", "govuk-input--error");
  });
  form.querySelectorAll("[aria-describedby]").forEach((control) => {
    const ids = control
      .getAttribute("aria-describedby")
      .split(" ")
      .filter((id) => id && !id.endsWith("-error"));
    if (ids.length) {
      control.setAttribute("aria-describedby", ids.join(" "));
    } else {
      control.removeAttribute("aria-describedby");
    }
  });
  document.title = document.title.replace(/^Error: /, "");
}

function describedBy(control, id) {
  const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  control.setAttribute("aria-describedby", [...ids, id].join(" "));
}

// The GOV.UK error pattern, as the server draws it: a summary at the top linking to each field,
// the message inside the field's group, and "Error: " before the page title.
function showErrors(problems) {
  clearErrors();
  const links = [];
  const shown = new Set();
  // In the order of the form, whatever order the server listed them in.
  const position = (name) => {
    const control = firstControl(name);
    return control ? Array.prototype.indexOf.call(form.elements, control) : Infinity;
  };
  const ordered = [...problems].sort(([a], [b]) => position(a) - position(b));
  for (const [name, message] of ordered) {
    const control = firstControl(name);
    if (!control || shown.has(name)) {
      continue;
    }
    shown.add(name);
    const errorId = `${control.id}-error`;
    links.push(element("li", {}, element("a", { href: `#${control.id}` }, message)));
    const group = control.closest(".govuk-form-group");
    const errorMessage = element(
      "p",
      { id: errorId, class: "govuk-error-message" },
      element("span", { class: "govuk-visually-hidden" }, "Error:"),
      ` ${message}`,
    );
    group?.classList.add("govuk-form-group--error");
    // An optional question folded away in a "details" is opened, so its error is seen.
    control.closest("details")?.setAttribute("open", "");
    const fieldset = control.closest("fieldset");
    if (control.type === "radio" || control.type === "checkbox") {
      const options = fieldset?.querySelector(".govuk-radios, .govuk-checkboxes");
      options?.before(errorMessage);
      if (fieldset) {
        describedBy(fieldset, errorId);
      }
    } else {
      control.before(errorMessage);
      const errorClass =
        control.tagName === "TEXTAREA" ? "govuk-textarea--error" : "govuk-input--error";
      control.classList.add(errorClass);
      describedBy(control, errorId);
    }
  }
  if (!links.length) {
    return;
  }
  const summary = element(
    "div",
    { class: "govuk-error-summary", "data-module": "govuk-error-summary" },
    element(
      "div",
      { role: "alert" },
      element("h2", { class: "govuk-error-summary__title" }, "There is a problem"),
      element(
        "div",
        { class: "govuk-error-summary__body" },
        element("ul", { class: "govuk-list govuk-error-summary__list" }, ...links),
      ),
    ),
  );
  document.querySelector("main")?.prepend(summary);
  document.title = `Error: ${document.title}`;
  try {
    // Moves focus to the summary, and makes its links focus the field, not just scroll.
    new ErrorSummary(summary);
  } catch {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
}

function syncRevealed() {
  // GOV.UK Frontend shows a question under a ticked box on click; a box ticked or cleared by
  // this script needs the same.
  form.querySelectorAll("input[aria-controls]").forEach((input) => {
    const target = document.getElementById(input.getAttribute("aria-controls"));
    if (!target) {
      return;
    }
    const hidden = target.classList.contains("govuk-checkboxes__conditional")
      ? "govuk-checkboxes__conditional--hidden"
      : "govuk-radios__conditional--hidden";
    target.classList.toggle(hidden, !input.checked);
    input.setAttribute("aria-expanded", String(input.checked));
  });
}

function clearForm() {
  for (const control of form.elements) {
    // "Who said it" stays: most items at one event come from the same kind of person.
    if (control.name === "respondent" || ["hidden", "submit", "button"].includes(control.type)) {
      continue;
    }
    if (control.type === "checkbox" || control.type === "radio") {
      control.checked = false;
    } else if ("value" in control && control.tagName !== "BUTTON") {
      control.value = "";
    }
  }
  syncRevealed();
}

function fillForm(fields) {
  for (const control of form.elements) {
    const value = fields[control.name];
    if (value === undefined || control.type === "hidden") {
      continue;
    }
    if (control.type === "radio") {
      control.checked = control.value === value;
    } else if (control.type === "checkbox") {
      control.checked = Array.isArray(value)
        ? value.map(String).includes(control.value)
        : Boolean(value);
    } else if ("value" in control && control.tagName !== "BUTTON") {
      control.value = value ?? "";
    }
  }
  syncRevealed();
}

function labelFor(name) {
  const checked = form.querySelector(`[name="${CSS.escape(name)}"]:checked`);
  const label = checked ? form.querySelector(`label[for="${CSS.escape(checked.id)}"]`) : null;
  return label ? label.textContent.trim() : "";
}

function focusText() {
  const text = firstControl("text");
  text?.focus();
}

async function onSubmit(submitEvent) {
  submitEvent.preventDefault();
  if (state.saving) {
    // A double tap: the first one is being saved.
    return;
  }
  state.saving = true;
  try {
    await saveFromForm();
  } finally {
    state.saving = false;
  }
}

async function saveFromForm() {
  const fields = fieldsOf(form);
  const problems = problemsWith(fields);
  if (problems.length) {
    showErrors(problems);
    return;
  }
  clearErrors();
  const item = {
    key: newKey(),
    user: config.user,
    eventId: pageEventId,
    eventName: form.dataset.eventName || "",
    endpoint: form.dataset.endpoint,
    pageUrl: location.pathname,
    payload: fields,
    labels: { respondent: labelFor("respondent"), sentiment: labelFor("sentiment") },
    savedAt: Date.now(),
    state: "waiting",
  };
  const replacing = state.restoringKey;
  try {
    await write((store) => {
      store.put(item);
      if (replacing) {
        store.delete(replacing);
      }
    });
  } catch {
    // This phone will not keep it (storage full or switched off): post it as a page without
    // JavaScript does, so it is still saved, just not offline.
    form.submit();
    return;
  }
  state.restoringKey = null;
  state.active = true;
  if (navigator.onLine) {
    state.inFlight.add(item.key);
    const sending = send(item);
    const timer = new Promise((resolve) => {
      setTimeout(() => resolve(TIMED_OUT), LIVE_WAIT_MS);
    });
    const result = await Promise.race([sending, timer]);
    if (result === TIMED_OUT) {
      // A slow signal: move on; the answer is dealt with when it comes.
      state.lastSave = "queued";
      sending
        .then((late) => settle(item, late))
        .finally(() => {
          state.inFlight.delete(item.key);
          render();
        });
    } else {
      state.inFlight.delete(item.key);
      if (result.outcome === "invalid") {
        // It can never be saved as it is: it leaves the queue and stays in the form to fix.
        await write((store) => store.delete(item.key));
        showErrors(Object.entries(result.errors));
        await render();
        return;
      }
      await settle(item, result);
      state.lastSave = result.outcome === "sent" ? "direct" : "queued";
    }
  } else {
    state.lastSave = "queued";
  }
  clearForm();
  // Messages from the last page load ("Event created") are about before this save, as they
  // would be gone after a save without JavaScript.
  document.querySelectorAll("main .govuk-notification-banner").forEach((banner) => {
    if (!banner.closest("[data-capture-status]")) {
      banner.remove();
    }
  });
  focusText();
  await render();
  flush();
}

async function onListClick(clickEvent) {
  const button = clickEvent.target.closest("button[data-restore], button[data-discard]");
  if (!button) {
    return;
  }
  const items = await readItemsOrNone();
  if (button.dataset.discard) {
    const item = items.find((each) => each.key === button.dataset.discard);
    const sure = window.confirm(
      "Remove this item from this phone? It has not been sent, so it cannot be got back.",
    );
    if (item && sure) {
      await write((store) => store.delete(item.key));
      await render();
    }
    return;
  }
  const item = items.find((each) => each.key === button.dataset.restore);
  if (item && form) {
    // It stays on the phone until the form saves it again, under a new key.
    fillForm(item.payload);
    state.restoringKey = item.key;
    const problems = item.state === "stuck" ? problemsWith(item.payload) : [];
    if (problems.length) {
      showErrors(problems);
    } else {
      focusText();
    }
    form.scrollIntoView();
  }
}

// Signing out

function forgetPages() {
  // Started at once, not awaited: the browser finishes it even as the page goes.
  if ("caches" in window) {
    caches.delete(PAGES_CACHE).catch(() => undefined);
  }
}

function guardSignOut() {
  const forms = document.querySelectorAll(`form[action="${CSS.escape(config.signOutUrl)}"]`);
  forms.forEach((signOut) => {
    // Decided without waiting for anything, so signing out is never held up.
    signOut.addEventListener("submit", (submitEvent) => {
      const waiting = state.kept;
      const sure =
        !waiting ||
        window.confirm(
          `${waiting} ${plural(waiting, "item has", "items have")} not been sent yet. ` +
            "They stay on this phone and are sent when you sign in here again. Sign out anyway?",
        );
      if (!sure) {
        submitEvent.preventDefault();
        return;
      }
      // The pages kept for offline use show private feedback: they go. Items waiting to send
      // stay (that is why this is not Clear-Site-Data: "storage", which would delete them;
      // "cache" would not touch the worker's caches).
      forgetPages();
    });
  });
}

// The service worker

async function registerWorker() {
  if (!("serviceWorker" in navigator) || !location.pathname.startsWith(config.scope)) {
    return;
  }
  try {
    await navigator.serviceWorker.register(config.swUrl, { scope: config.scope });
    const registration = await navigator.serviceWorker.ready;
    registration.active?.postMessage({
      type: "warm",
      user: config.user,
      pages: [location.pathname + location.search],
    });
  } catch {
    // No worker (a private window, an old browser): the pages need a signal, the queue works.
  }
}

function start() {
  if (form) {
    form.addEventListener("submit", onSubmit);
  }
  document.addEventListener("click", (clickEvent) => {
    if (clickEvent.target.closest?.("[data-capture-waiting]")) {
      onListClick(clickEvent);
    }
  });
  guardSignOut();
  window.addEventListener("online", () => {
    state.unreachable = false;
    state.failures = 0;
    flush();
  });
  window.addEventListener("offline", () => render());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      flush();
    }
  });
  window.addEventListener("pageshow", (pageEvent) => {
    if (pageEvent.persisted) {
      flush();
    }
  });
  render();
  flush();
  registerWorker();
}

start();
