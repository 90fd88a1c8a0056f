// The two lists side by side (ours, the site's own) and the panel of pins and bans.
// Rendering only: what a button does is the `act` callback of page.js.

import { byId, el, fill, show } from "./dom.js";
import { formatDate, formatNumber, label } from "./labels.js";

/** How many shared words an item shows (the weightiest first, as explain gives them). */
const WORDS = 6;

export function articleHash(id) {
  return `#/article/${encodeURIComponent(id)}`;
}

function meta(item) {
  return [formatDate(item.published), item.category || label("item.nosection")];
}

function titleOf(item) {
  return item.title || item.id;
}

/** Our box: `items` of a related answer; `siteIds` the ids of the site's list (a mark on
 * the items both share); `edit` ({maxPosition, act}) when the list is an article's, whose
 * items can be pinned and banned (a draft's cannot: it is not in the model yet). */
export function renderBox(items, siteIds, edit) {
  const list = byId("box");
  fill(list, ...items.map((item, index) => boxItem(item, index, siteIds, edit)));
  show(byId("box-empty"), items.length === 0);
}

function boxItem(item, index, siteIds, edit) {
  const titleId = `box-item-${index}`;
  const both = siteIds.has(item.id);
  const marks = el("p", { class: "marks" },
    item.pinned ? el("span", { class: "mark pinned", text: label("mark.pinned") }) : null,
    both ? el("span", { class: "mark both", text: label("mark.both") }) : null);
  const words = Array.isArray(item.explain) && item.explain.length
    ? el("p", { class: "words" },
      el("span", { class: "muted", text: label("item.words") }), " ",
      item.explain.slice(0, WORDS).map((word) => el("span", { class: "word" },
        String(word.word), " ", el("small", { text: formatNumber(word.weight, 2) }))))
    : null;
  const classes = ["item", item.pinned ? "is-pinned" : "", both ? "is-both" : ""];
  return el("li", { class: classes.join(" ").trim(), dataset: { id: item.id } },
    el("p", { class: "title" },
      el("a", { id: titleId, href: articleHash(item.id), text: titleOf(item) })),
    el("p", { class: "meta muted" }, meta(item).join(" · "), " · ",
      el("span", { class: "score",
        text: label("item.score", { score: formatNumber(item.score, 3) }) }),
      " · ", el("span", { class: "id", text: item.id })),
    marks.childElementCount ? marks : null,
    words,
    edit ? actions(item, index, titleId, edit) : null);
}

function actions(item, index, titleId, edit) {
  const positionId = `box-position-${index}`;
  const position = el("input", {
    id: positionId, class: "position", type: "number", min: 1, max: edit.maxPosition,
    value: index + 1, required: true, inputmode: "numeric",
  });
  const pinForm = el("form", {
    class: "pin-form",
    onsubmit: (event) => {
      event.preventDefault();
      edit.act("pin", item, Number(position.value));
    },
  },
  el("label", { for: positionId, text: label("item.position") }), position,
  el("button", {
    type: "submit", class: "pin", "aria-describedby": titleId, text: label("action.pin"),
  }));
  const button = (kind, text) => el("button", {
    type: "button", class: kind, "aria-describedby": titleId, text,
    onclick: () => edit.act(kind, item),
  });
  return el("div", { class: "actions" }, pinForm,
    item.pinned ? button("unpin", label("action.unpin")) : null,
    button("ban", label("action.ban")),
    button("ban-all", label("action.ban.all")));
}

/** The site's own list: `items` of GET /articles/{id}/site (null: none to show, with
 * `why`), each marked when our box has it too. */
export function renderSite(items, boxIds, why) {
  const list = byId("site");
  const empty = byId("site-empty");
  if (!items || items.length === 0) {
    fill(list);
    empty.textContent = why;
    show(empty, true);
    return;
  }
  show(empty, false);
  fill(list, ...items.map((item) => {
    const both = boxIds.has(item.id);
    const known = item.title !== null && item.title !== undefined;
    return el("li", { class: `item${both ? " is-both" : ""}`, dataset: { id: item.id } },
      el("p", { class: "title" }, known
        ? el("a", { href: articleHash(item.id), text: item.title })
        : el("span", { text: item.id })),
      el("p", { class: "meta muted" },
        known ? `${meta(item).join(" · ")} · ` : `${label("site.unknown")} · `,
        el("span", { class: "id", text: item.id })),
      both ? el("p", { class: "marks" },
        el("span", { class: "mark both", text: label("mark.both.site") })) : null);
  }));
}

/** The pins and bans of the list and the bans from every list, each with its undo.
 * `titles` maps ids to titles (an id alone when unknown); `undo(kind, id)` lifts one. */
export function renderEdits(state, titles, undo) {
  const name = (id) => titles.get(id) || id;
  const entry = (kind, id, text) => el("li", { dataset: { id, kind } },
    el("span", { text }), " ",
    el("button", {
      type: "button", class: "undo", "aria-label": `${label("action.undo")} — ${text}`,
      text: label("action.undo"), onclick: () => undo(kind, id),
    }));
  const group = (key, entries) => el("div", { class: "edit-group", dataset: { group: key } },
    el("h4", { text: label(key) }),
    entries.length ? el("ul", {}, entries)
      : el("p", { class: "muted", text: label("edits.none") }));
  const pins = [...state.pins].sort((a, b) => a.position - b.position);
  fill(byId("edit-lists"),
    group("edits.pins", pins.map((pin) => entry("unpin", pin.id,
      `${name(pin.id)} (${label("edits.position", { position: pin.position })})`))),
    group("edits.bans", state.bans.map((id) => entry("unban", id, name(id)))),
    group("edits.everywhere", state.everywhere.map((id) => entry("unban-all", id, name(id)))));
  byId("undo-last").disabled = state.history.length === 0;
}

/** Where the focus is in the box or the edits (to put it back, keyboard users keep
 * their place when the box is drawn again after a change). */
export function focusKey() {
  const active = document.activeElement;
  const item = active?.closest?.("#box li[data-id], #edit-lists li[data-id]");
  if (!item) return null;
  const list = item.closest("ol, ul").id || "edit-lists";
  return { list, id: item.dataset.id, cls: active.className };
}

/** Focus the same control of the same item again, or the box's title if it left. */
export function restoreFocus(key) {
  if (!key) return;
  const root = key.list === "box" ? byId("box") : byId("edit-lists");
  const item = [...root.querySelectorAll("li[data-id]")].find((li) => li.dataset.id === key.id);
  const target = item && key.cls ? item.querySelector(`.${key.cls.split(" ")[0]}`) : null;
  (target || byId("box-title")).focus?.();
}
