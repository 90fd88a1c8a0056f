// The newsroom controls: inputs that re-rank the preview only (query parameters of the
// related routes, never a change of the model), each shown with the model's own value
// and, when the model was made by `recommender tune`, what its settings did to recall on
// the site's own lists.

import { byId, el, fill } from "./dom.js";
import { formatNumber, label } from "./labels.js";

/** The controls, in the order of the form: [name, the input's step]. */
export const CONTROLS = [
  ["max_age", "1"],
  ["half_life", "1"],
  ["dedupe", "0.05"],
  ["diversity", "0.05"],
  ["min_score", "0.01"],
];
const OFF = new Set(["none", "aucun", "aucune", "off", "non", "no"]);

/** Build (or rebuild, keeping what was typed) the control fields for `model` (the answer
 * of GET /model, or null when the service does not give it). */
export function renderControls(model) {
  const container = byId("control-fields");
  const typed = currentValues();
  const fields = CONTROLS.map(([name]) => {
    const id = `control-${name}`;
    const hint = `${id}-hint`;
    const input = el("input", {
      id, name, type: "text", inputmode: "decimal", autocomplete: "off",
      "aria-describedby": hint, value: typed[name] ?? "",
    });
    const own = model?.controls ? model.controls[name] : undefined;
    const hintText = own === undefined ? "" : label("control.model", { value: shown(own) });
    return el("div", { class: "control", dataset: { control: name } },
      el("label", { for: id, text: label(`control.${name}`) }),
      input,
      el("span", { id: hint, class: "muted small", text: hintText }),
      tuningNote(model?.tuning, name));
  });
  fill(container, ...fields);
}

function shown(value) {
  if (value === null) return label("control.off");
  if (typeof value !== "number") return String(value);
  return formatNumber(value, Number.isInteger(value) ? 0 : 2);
}

function currentValues() {
  const values = {};
  for (const [name] of CONTROLS) {
    const input = byId(`control-${name}`);
    if (input) values[name] = input.value;
  }
  return values;
}

/** The tuning rows whose params name the control: those of its own group when the table
 * has one (e.g. "mlt: max age"), else every row that names it. Nothing without a table. */
export function tuningRows(tuning, name) {
  if (!tuning || !Array.isArray(tuning.rows)) return [];
  const naming = tuning.rows.filter((row) => row.params && name in row.params);
  const words = name.replace(/_/g, " ");
  const own = naming.filter((row) => String(row.group ?? "").replace(/_/g, " ").includes(words));
  return own.length ? own : naming;
}

function tuningNote(tuning, name) {
  const rows = tuningRows(tuning, name);
  if (!rows.length) return null;
  const figure = (half) => {
    const value = half?.["recall@10"];
    return typeof value === "number" ? formatNumber(value, 3) : "–";
  };
  return el("div", { class: "tuning small", dataset: { tuning: name } },
    el("p", { class: "muted", text: label("tuning.title") }),
    el("ul", {}, rows.map((row) => {
      const scoring = String(row.group ?? "").split(":")[0];
      const text = label("tuning.row", {
        setting: `[${scoring}] ${row.setting ?? ""}`,
        tune: figure(row.TUNE),
        confirm: figure(row.CONFIRM),
      });
      return el("li", { class: row.chosen ? "chosen" : "" }, text,
        row.chosen ? el("strong", { class: "mark", text: label("tuning.chosen") }) : null,
        !row.chosen && row.kept ? el("span", { class: "mark", text: label("tuning.kept") }) : null);
    })));
}

/** The query parameters of the controls: `k`, and each control the editor filled
 * ("aucun"/"none" -> none; a French decimal comma read as a point). Empty ones are left
 * out, so the model's own values apply. */
export function controlParams() {
  const params = { k: byId("control-k").value || "5" };
  for (const [name, value] of Object.entries(currentValues())) {
    const text = value.trim().toLowerCase();
    if (!text) continue;
    params[name] = OFF.has(text) ? "none" : text.replace(",", ".");
  }
  return params;
}

export function resetControls() {
  for (const [name] of CONTROLS) {
    const input = byId(`control-${name}`);
    if (input) input.value = "";
  }
}
