// The editors' page: search an article or paste a draft, see its box beside the site's own
// list, pin and ban with undo, preview the newsroom controls. Plain modules, no framework:
// the state below is rendered again, whole, after every answer.

import { ApiError, articlePath, getJson, keepToken, postJson, withQuery, write } from "./api.js";
import { articleHash, focusKey, renderBox, renderEdits, renderSite, restoreFocus } from "./box.js";
import { controlParams, renderControls, resetControls } from "./controls.js";
import { DONE, editRequest, undoSteps } from "./edits.js";
import { byId, el, fill, show, timed } from "./dom.js";
import { applyLabels, formatDate, label, language, setLanguage, startLanguage } from "./labels.js";
import { askToken, closeToken } from "./token.js";

/** The longest position a pin may take when the service does not say (its default). */
const MAX_POSITION = 40;

const state = {
  model: null,       // GET /model (or what /health says of it)
  reference: null,   // the model's "now": the draft's default date
  search: null,      // the last search answer
  view: null,        // {kind: "article", id, info, related, site}, {kind: "draft", title, related}
  pins: [], bans: [], everywhere: [],
  history: [],       // the changes made here, newest last: {what, steps: [[method, path]]}
  titles: new Map(),
  searchSeq: 0,      // answers of an older search or view than the latest are dropped
  viewSeq: 0,
};

// -- messages ------------------------------------------------------------------------------
function say(text) {
  const node = byId("message");
  node.textContent = text;
  show(node, Boolean(text));
}

function fail(error) {
  const node = byId("error");
  if (!error) {
    node.textContent = "";
    show(node, false);
    return;
  }
  const known = error instanceof ApiError;
  node.textContent = known && error.status === 0
    ? label("error.network", { message: error.message })
    : label("error", { status: known ? error.status : "?", message: error.message });
  show(node, true);
}

// -- the model --------------------------------------------------------------------------------
async function loadModel() {
  const health = await getJson("/health").catch(() => null);
  state.reference = health?.reference ?? null;
  state.model = await getJson("/model").catch(() => null);
  if (!state.model && health) state.model = { version: health.model, articles: health.articles };
  renderModel();
  renderControls(state.model);
  if (!byId("draft-date").value) byId("draft-date").value = localInput(state.reference);
}

function renderModel() {
  const model = state.model;
  byId("model-line").textContent = model
    ? label("model.line", {
      version: model.version, articles: Number(model.articles).toLocaleString(language()),
    })
    : "";
  const report = byId("report-link");
  const href = model?.report;
  const local = typeof href === "string" && href.startsWith("/") && !href.startsWith("//");
  if (local) report.setAttribute("href", href);
  show(report, local);
}

function maxPosition() {
  return state.model?.max_pin_position ?? MAX_POSITION;
}

// -- search -----------------------------------------------------------------------------------
async function search(query) {
  fail(null);
  const seq = ++state.searchSeq;
  try {
    const [, ms] = await timed("search", async () => {
      const answer = await getJson(withQuery("/search", { q: query, limit: 20 }));
      if (seq !== state.searchSeq) return;
      state.search = answer;
      renderSearch();
    });
    if (seq !== state.searchSeq) return;
    state.search.ms = Math.round(ms);
    renderSearchStatus();
  } catch (error) {
    fail(error);
  }
}

function renderSearch() {
  const items = state.search?.items ?? [];
  for (const item of items) if (item.title) state.titles.set(item.id, item.title);
  fill(byId("search-results"), ...items.map((item) => el("li", { dataset: { id: item.id } },
    el("a", { href: articleHash(item.id), class: "title", text: item.title || item.id }),
    el("span", { class: "meta muted" },
      `${formatDate(item.published)} · ${item.category || label("item.nosection")} · `,
      el("span", { class: "id", text: item.id })))));
}

function renderSearchStatus() {
  const answer = state.search;
  if (!answer) return;
  const count = answer.items.length;
  byId("search-status").textContent = count === 0
    ? label("search.none", { query: answer.query })
    : label(count === 1 ? "search.one" : "search.count", { count, ms: answer.ms ?? "…" });
}

// -- an article's box, a draft's box ------------------------------------------------------------
async function openArticle(id, { quiet = false } = {}) {
  if (!quiet) fail(null);
  const seq = ++state.viewSeq;
  const params = { ...controlParams(), explain: "true" };
  try {
    const [, ms] = await timed("box", async () => {
      const [info, related, site, pins, every] = await Promise.all([
        getJson(articlePath(id)),
        getJson(withQuery(articlePath(id, "related"), params)),
        getJson(articlePath(id, "site")).catch(() => null),
        getJson(articlePath(id, "pins")),
        getJson("/pins").catch(() => null),
      ]);
      if (seq !== state.viewSeq) return;
      state.view = { kind: "article", id, info, related, site };
      state.pins = pins.pins;
      state.bans = pins.bans;
      state.everywhere = (every?.bans ?? []).filter((ban) => ban.from === null)
        .map((ban) => ban.banned);
      noteModel(related.model);
      renderView();
    });
    if (seq !== state.viewSeq) return;
    state.view.ms = Math.round(ms);
    await learnTitles([...state.pins.map((pin) => pin.id), ...state.bans, ...state.everywhere]);
    if (seq === state.viewSeq) renderView();
  } catch (error) {
    fail(error);
  }
}

async function previewDraft() {
  fail(null);
  const seq = ++state.viewSeq;
  const form = byId("draft-form");
  const text = (name) => form.elements[name].value.trim();
  const date = byId("draft-date").value;
  const published = date ? new Date(date).toISOString() : undefined;
  const body = { title: text("title"), heading: text("heading"), body: text("body"), published };
  for (const name of Object.keys(body)) if (!body[name]) delete body[name];
  const params = { ...controlParams(), explain: "true", as_of: published };
  try {
    const [, ms] = await timed("preview", async () => {
      const related = await postJson(withQuery("/related", params), body);
      if (seq !== state.viewSeq) return;
      state.view = { kind: "draft", title: body.title, published, related };
      noteModel(related.model);
      renderView();
    });
    if (seq !== state.viewSeq) return;
    state.view.ms = Math.round(ms);
    renderView();
  } catch (error) {
    fail(error);
  }
}

function noteModel(version) {
  if (state.model && version && state.model.version !== version) {
    state.model.version = version;
    renderModel();
  }
}

async function learnTitles(ids) {
  const unknown = [...new Set(ids)].filter((id) => !state.titles.has(id));
  await Promise.all(unknown.map((id) => getJson(articlePath(id))
    .then((info) => state.titles.set(id, info.title || id))
    .catch(() => state.titles.set(id, id))));
}

function renderView() {
  const view = state.view;
  if (!view) return;
  const items = view.related.items;
  for (const item of items) if (item.title) state.titles.set(item.id, item.title);
  const siteItems = view.kind === "article" ? view.site?.items ?? [] : [];
  const siteIds = new Set(siteItems.map((item) => item.id));
  const boxIds = new Set(items.map((item) => item.id));
  const focus = focusKey();
  if (view.kind === "article") {
    const info = view.info;
    byId("result-title").textContent = info.title || info.id;
    byId("result-meta").textContent = [label("result.article", { id: info.id }),
      formatDate(info.published), info.category || label("item.nosection")].join(" · ");
    renderBox(items, siteIds, { maxPosition: maxPosition(), act });
    renderSite(siteItems, boxIds, label("site.empty"));
    renderEdits(state, state.titles, undoOne);
  } else {
    byId("result-title").textContent = label("draft.result",
      { title: view.title || label("draft.untitled") });
    byId("result-meta").textContent = formatDate(view.published);
    renderBox(items, siteIds, null);
    renderSite(null, boxIds, label("site.draft"));
  }
  byId("box-timing").textContent = view.ms === undefined ? ""
    : label("box.timing", { ms: view.ms });
  show(byId("edits"), view.kind === "article");
  show(byId("result"), view.kind === currentTab());
  restoreFocus(focus);
}

// -- pins and bans ----------------------------------------------------------------------------
async function change(kind, target, position) {
  const source = state.view.id;
  const steps = undoSteps(kind, source, target, state);
  const [method, path] = editRequest(kind, source, target, position);
  const answer = await write(method, path, askToken);
  noteModel(answer?.model);
  const what = label(DONE[kind], { title: state.titles.get(target) || target, position });
  state.history.push({ what, kind, target, steps });
  return what;
}

async function act(kind, item, position) {
  fail(null);
  say("");
  try {
    say(await change(kind, item.id, position));
  } catch (error) {
    fail(error);
  }
  await openArticle(state.view.id, { quiet: true });
}

async function undoOne(kind, id) {
  fail(null);
  say("");
  try {
    say(await change(kind, id));
    state.history.pop(); // lifting a pin or a ban is itself an undo, not a change to undo
    const lifted = { unpin: "pin", unban: "ban", "unban-all": "ban-all" }[kind];
    state.history = state.history.filter((entry) =>
      !(entry.target === id && entry.kind === lifted));
  } catch (error) {
    fail(error);
  }
  await openArticle(state.view.id, { quiet: true });
}

async function undoLast() {
  fail(null);
  say("");
  const last = state.history.pop();
  if (!last) {
    say(label("done.nothing"));
    return;
  }
  try {
    for (const [method, path] of last.steps) {
      const answer = await write(method, path, askToken);
      noteModel(answer?.model);
    }
    say(label("done.undo", { what: last.what }));
  } catch (error) {
    fail(error);
  }
  await openArticle(state.view.id, { quiet: true });
}

// -- tabs, routes, language ---------------------------------------------------------------------
function currentTab() {
  return byId("tab-draft").getAttribute("aria-selected") === "true" ? "draft" : "article";
}

/** Show a tab's panel, and the box of its last view (an article's, or the draft's). */
function selectTab(name) {
  for (const tab of ["article", "draft"]) {
    const selected = tab === name;
    const button = byId(`tab-${tab}`);
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    show(byId(`panel-${tab}`), selected);
  }
  show(byId("result"), state.view?.kind === name);
}

/** A tab chosen by the editor: its panel, and the address of what it shows. */
function chooseTab(name) {
  selectTab(name);
  const view = state.view?.kind === name ? state.view : null;
  const hash = name === "draft" ? "#/draft" : view ? articleHash(view.id) : "";
  if (window.location.hash !== hash) {
    window.history.replaceState(null, "", hash || window.location.pathname);
  }
}

function route() {
  const hash = window.location.hash;
  if (hash.startsWith("#/article/")) {
    selectTab("article");
    openArticle(decodeURIComponent(hash.slice("#/article/".length)));
  } else if (hash === "#/draft") {
    selectTab("draft");
  }
}

function rerun() {
  if (state.view?.kind === "article") openArticle(state.view.id);
  else if (state.view?.kind === "draft") previewDraft();
}

function relabel() {
  applyLabels();
  renderModel();
  renderControls(state.model);
  renderSearch();
  renderSearchStatus();
  renderView();
}

function localInput(iso) {
  const date = iso ? new Date(iso) : new Date();
  if (Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

function wire() {
  byId("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const query = byId("search-q").value.trim();
    if (query) search(query);
  });
  byId("draft-form").addEventListener("submit", (event) => {
    event.preventDefault();
    previewDraft();
  });
  byId("controls-form").addEventListener("submit", (event) => {
    event.preventDefault();
    rerun();
  });
  byId("control-k").addEventListener("change", rerun);
  byId("controls-reset").addEventListener("click", () => {
    resetControls();
    rerun();
  });
  byId("undo-last").addEventListener("click", undoLast);
  byId("lang-button").addEventListener("click", () => {
    setLanguage(language() === "fr" ? "en" : "fr");
    relabel();
  });
  byId("token-button").addEventListener("click", async () => {
    const token = await askToken();
    if (token) {
      keepToken(token);
      say(label("token.kept"));
    }
  });
  byId("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    closeToken(byId("token-input").value.trim());
  });
  byId("token-cancel").addEventListener("click", () => closeToken(null));
  byId("token-dialog").addEventListener("close", () => closeToken(null));
  for (const tab of ["article", "draft"]) {
    byId(`tab-${tab}`).addEventListener("click", () => chooseTab(tab));
  }
  byId("tab-article").parentElement.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const next = currentTab() === "article" ? "draft" : "article";
    chooseTab(next);
    byId(`tab-${next}`).focus();
  });
  window.addEventListener("hashchange", route);
}

async function start() {
  startLanguage();
  applyLabels();
  wire();
  await loadModel();
  route();
  document.body.dataset.ready = "true";
}

start();
