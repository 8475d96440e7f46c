// envsecrets edit: progressive enhancement only. The page works without
// this script; it adds live validation, name/key suggestions (names and
// JSON types only, fetched by the server) and the show-value toggle.
"use strict";
document.documentElement.classList.add("js");

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function csrfToken(form) {
  return form.querySelector("input[name=csrf]").value;
}

function setSource(row) {
  const select = row.querySelector("select.source");
  if (row.dataset.source !== "iam" || select.value !== "manual") row.dataset.source = select.value;
  const option = select.selectedOptions[0];
  const name = row.querySelector("input.name");
  const key = row.querySelector("input.key");
  if (option && name && key) {
    name.placeholder = option.dataset.nameHint || "";
    key.placeholder = option.dataset.keyHint || "";
  }
  const hint = row.querySelector(".prefix-hint");
  if (hint) hint.textContent = option && option.dataset.prefix ? `${option.dataset.prefix}NAME:KEY` : "";
}

function reference(row) {
  const source = row.querySelector("select.source").value;
  const name = row.querySelector("input.name").value;
  const key = row.querySelector("input.key").value;
  return `_${source}:${name}${key ? `:${key}` : ""}`;
}

// The connection method: Manual input types every value (a reference
// becomes its typed text, so nothing is lost); AWS IAM Role hides PASS and
// types USER; Secrets Manager shows each field's source.
function setMethod(form, method) {
  const before = form.dataset.method;
  form.dataset.method = method;
  for (const row of form.querySelectorAll("fieldset.row")) {
    const select = row.querySelector("select.source");
    const value = row.querySelector("input.value");
    const provider = !["manual", "keep", "iam"].includes(select.value);
    if (method === "manual" && provider) {
      value.value = reference(row);
      select.value = "manual";
    }
    const iamField = ["f-USER", "f-PASS"].includes(row.id);
    if (method === "iam" && iamField) {
      if (row.id === "f-USER" && provider) value.value = row.querySelector("input.name").value;
      select.value = "manual";
      row.dataset.source = "iam";
    } else if (before === "iam" && iamField) {
      row.dataset.source = "manual";
      if (row.id === "f-PASS") value.value = "";
    }
    setSource(row);
  }
}

function showMessages(form, answer) {
  for (const [rowId, messages] of Object.entries(answer.rows || {})) {
    const list = form.querySelector(`#${CSS.escape(rowId)} ul.messages`);
    if (!list) continue;
    list.replaceChildren(...messages.map((message) => {
      const item = document.createElement("li");
      item.className = message.level;
      item.textContent = message.text;
      return item;
    }));
  }
}

async function validate(form) {
  const body = new URLSearchParams(new FormData(form));
  const answer = await fetch(form.dataset.validate, {
    method: "POST",
    body,
    headers: { "X-CSRF-Token": csrfToken(form) },
    credentials: "same-origin",
  });
  if (answer.ok) showMessages(form, await answer.json());
}

function fill(datalist, entries) {
  datalist.replaceChildren(...entries.map(([value, label]) => {
    const option = document.createElement("option");
    option.value = value;
    if (label) option.label = label;
    return option;
  }));
}

async function suggestNames(row) {
  const source = row.querySelector("select.source");
  const option = source.selectedOptions[0];
  const datalist = row.querySelector("datalist[id$='-names']");
  if (!option || option.dataset.canList !== "yes") { fill(datalist, []); return; }
  const typed = row.querySelector("input.name").value;
  const query = new URLSearchParams({ source: source.value, prefix: typed });
  const answer = await fetch(`${document.body.dataset.base}/api/names?${query}`, { credentials: "same-origin" });
  const data = answer.ok ? await answer.json() : { names: [] };
  if (row.querySelector("input.name").value !== typed) return;  // a later request answers
  fill(datalist, (data.names || []).map((name) => [name, ""]));
}

async function suggestKeys(row) {
  const source = row.querySelector("select.source");
  const name = row.querySelector("input.name").value;
  const datalist = row.querySelector("datalist[id$='-keys']");
  if (!name || source.value === "manual" || source.value === "keep") {
    fill(datalist, []);
    row.keyList = null;
    checkKey(row);
    return;
  }
  const listed = row.keyList;
  if (listed && listed.source === source.value && listed.name === name) { checkKey(row); return; }
  const query = new URLSearchParams({ source: source.value, name });
  const answer = await fetch(`${document.body.dataset.base}/api/keys?${query}`, { credentials: "same-origin" });
  const data = answer.ok ? await answer.json() : { keys: [] };
  if (row.querySelector("input.name").value !== name) return;
  const keys = (data.keys || []).map((info) => info.key);
  // No keys: the secret could not be listed (or has none); nothing to flag.
  row.keyList = { source: source.value, name, keys: keys.length ? new Set(keys) : null };
  fill(datalist, (data.keys || []).map((info) => [info.key, info.type]));
  checkKey(row);
}

// A KEY that is not among the keys the secret was listed with is flagged
// as it is typed (a JSON Pointer, "/a/b", is left to Test).
function checkKey(row) {
  const note = row.querySelector("output.keynote");
  const input = row.querySelector("input.key");
  if (!note || !input) return;
  const key = input.value;
  const listed = row.keyList;
  const source = row.querySelector("select.source").value;
  const current = listed && listed.keys && listed.source === source
    && listed.name === row.querySelector("input.name").value;
  if (current && key && !key.startsWith("/") && !listed.keys.has(key)) {
    note.textContent = `${key} is not a key of ${listed.name} (its keys: ${[...listed.keys].join(", ")})`;
    input.setAttribute("aria-invalid", "true");
  } else {
    note.textContent = "";
    input.removeAttribute("aria-invalid");
  }
}

// Whether a person changed the form before this deferred script ran (a
// slow machine): then nothing had checked it yet.
function changedSinceLoad(form) {
  for (const element of form.elements) {
    if (element instanceof HTMLSelectElement) {
      if ([...element.options].some((option) => option.selected !== option.defaultSelected)) return true;
    } else if (element instanceof HTMLInputElement && element.value !== element.defaultValue) {
      return true;
    }
  }
  return false;
}

function enhance(form) {
  const later = debounce(() => validate(form), 250);
  for (const row of form.querySelectorAll("fieldset.row")) {
    const select = row.querySelector("select.source");
    select.addEventListener("change", () => {
      if (row.dataset.source === "iam") row.dataset.source = select.value;
      setSource(row); later(); suggestNames(row);
    });
    setSource(row);
    const name = row.querySelector("input.name");
    if (name) {
      const names = debounce(() => suggestNames(row), 200);
      name.addEventListener("input", names);
      name.addEventListener("focus", names);
      const keys = debounce(() => suggestKeys(row), 200);
      name.addEventListener("change", keys);
      name.addEventListener("input", keys);
      const key = row.querySelector("input.key");
      key.addEventListener("focus", keys);
      key.addEventListener("input", () => { checkKey(row); keys(); });
      // Typed into before this deferred script ran (a slow machine): the
      // field in focus gets its suggestions now, as if typed into again.
      if (document.activeElement === name) names();
      if (document.activeElement === key) keys();
    }
    const value = row.querySelector("input.value");
    const toggle = row.querySelector("button.show");
    if (value && toggle) {
      toggle.hidden = false;
      toggle.addEventListener("click", () => {
        const shown = value.type === "password";
        value.type = shown ? "text" : "password";
        toggle.setAttribute("aria-pressed", String(shown));
        toggle.textContent = shown ? "Hide" : "Show";
      });
    }
    const variable = row.querySelector("input.var");
    if (variable) {
      const upper = () => {
        const at = variable.selectionStart;
        variable.value = variable.value.toUpperCase();
        variable.setSelectionRange(at, at);
      };
      variable.addEventListener("input", upper);
      upper();  // typed before this script ran
    }
  }
  form.addEventListener("input", later);
  const method = document.getElementById("method");
  if (method) {
    method.addEventListener("change", () => { setMethod(form, method.value); later(); });
    // Chosen before this deferred script ran (a slow machine): apply it now.
    if (method.value !== form.dataset.method) setMethod(form, method.value);
  }
  if (changedSinceLoad(form)) later();
  // Ctrl+S (Cmd+S) saves, as the Save button does; Enter never does (the
  // form's disabled default button stops implicit submission).
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      form.requestSubmit(form.querySelector("button[value=save]"));
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("role-form");
  if (form) enhance(form);
});
