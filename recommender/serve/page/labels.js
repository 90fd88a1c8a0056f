// The page's words, in French (the site's language, the default) and English.
// label(key, values) fills {name} slots; the result always goes into the page as text.

const FR = {
  "app.title": "Articles liés : la page des éditeurs",
  "model.line": "Modèle {version} · {articles} articles",
  "report": "Rapport d'évaluation",
  "lang.toggle": "English",
  "token.button": "Jeton du service",
  "token.title": "Jeton du service",
  "token.help": "Épingler et bannir demandent le jeton du service. Il reste dans cet onglet, pour cette session seulement.",
  "token.label": "Jeton",
  "token.ok": "Valider",
  "token.cancel": "Fermer",
  "token.kept": "Jeton gardé pour cette session.",
  "tabs.label": "Source de la boîte",
  "tab.article": "Article publié",
  "tab.draft": "Brouillon",
  "search.label": "Identifiant ou mots du titre",
  "search.button": "Chercher",
  "search.none": "Aucun article trouvé pour « {query} ».",
  "search.count": "{count} articles trouvés ({ms} ms).",
  "search.one": "1 article trouvé ({ms} ms).",
  "draft.title": "Titre",
  "draft.heading": "Chapeau",
  "draft.body": "Texte",
  "draft.date": "Date de publication",
  "draft.date.help": "La boîte telle qu'elle serait publiée à cette date.",
  "draft.button": "Voir la boîte",
  "draft.result": "Brouillon : {title}",
  "draft.untitled": "Brouillon sans titre",
  "controls.title": "Réglages de la rédaction (aperçu seulement)",
  "controls.help": "Vide : le réglage du modèle. « aucun » : sans ce réglage. Ils changent cet aperçu, jamais le modèle.",
  "controls.apply": "Appliquer",
  "controls.reset": "Réglages du modèle",
  "control.k": "Nombre d'articles",
  "control.max_age": "Âge maximal (jours)",
  "control.half_life": "Demi-vie (jours)",
  "control.dedupe": "Doublons (cosinus de 0 à 1)",
  "control.diversity": "Diversité (de 0 à 1)",
  "control.min_score": "Score minimal",
  "control.model": "modèle : {value}",
  "control.off": "aucun",
  "tuning.title": "Effet sur le rappel des listes du site (recommender tune) :",
  "tuning.row": "{setting} : rappel@10 {tune} (TUNE), {confirm} (CONFIRM)",
  "tuning.chosen": "choisi",
  "tuning.kept": "retenu",
  "result.article": "Identifiant {id}",
  "box.title": "Ces articles devraient vous intéresser",
  "box.empty": "Aucun article dans la boîte : vérifiez les réglages ou la date.",
  "box.timing": "Calculée en {ms} ms.",
  "site.title": "La liste du site",
  "site.empty": "Le corpus n'avait pas de liste pour cet article.",
  "site.unknown": "absent du modèle",
  "site.draft": "Un brouillon n'a pas encore de liste sur le site.",
  "mark.pinned": "Épinglé",
  "mark.both": "Aussi dans la liste du site",
  "mark.both.site": "Aussi dans notre boîte",
  "item.score": "score {score}",
  "item.words": "Mots partagés :",
  "item.undated": "sans date",
  "item.nosection": "sans rubrique",
  "item.position": "Position",
  "action.pin": "Épingler",
  "action.unpin": "Désépingler",
  "action.ban": "Bannir de cette liste",
  "action.ban.all": "Bannir de toutes les listes",
  "action.undo": "Annuler",
  "action.undo.last": "Annuler la dernière modification",
  "edits.title": "Épingles et bannissements",
  "edits.pins": "Épinglés dans cette liste",
  "edits.bans": "Bannis de cette liste",
  "edits.everywhere": "Bannis de toutes les listes",
  "edits.none": "Aucun.",
  "edits.position": "position {position}",
  "done.pin": "« {title} » épinglé en position {position}.",
  "done.unpin": "« {title} » n'est plus épinglé.",
  "done.ban": "« {title} » banni de cette liste.",
  "done.unban": "« {title} » n'est plus banni de cette liste.",
  "done.ban.all": "« {title} » banni de toutes les listes.",
  "done.unban.all": "« {title} » n'est plus banni de toutes les listes.",
  "done.undo": "Annulé : {what}",
  "done.nothing": "Rien à annuler.",
  "error": "Erreur {status} : {message}",
  "error.network": "Le service ne répond pas : {message}",
};

const EN = {
  "app.title": "Related articles: the editors' page",
  "model.line": "Model {version} · {articles} articles",
  "report": "Evaluation report",
  "lang.toggle": "Français",
  "token.button": "Service token",
  "token.title": "Service token",
  "token.help": "Pinning and banning need the service's token. It stays in this tab, for this session only.",
  "token.label": "Token",
  "token.ok": "OK",
  "token.cancel": "Close",
  "token.kept": "Token kept for this session.",
  "tabs.label": "Source of the box",
  "tab.article": "Published article",
  "tab.draft": "Draft",
  "search.label": "Id or words of the title",
  "search.button": "Search",
  "search.none": "No article found for “{query}”.",
  "search.count": "{count} articles found ({ms} ms).",
  "search.one": "1 article found ({ms} ms).",
  "draft.title": "Title",
  "draft.heading": "Lead",
  "draft.body": "Body",
  "draft.date": "Publication date",
  "draft.date.help": "The box as it would be published at that date.",
  "draft.button": "Show the box",
  "draft.result": "Draft: {title}",
  "draft.untitled": "Untitled draft",
  "controls.title": "Newsroom controls (preview only)",
  "controls.help": "Empty: the model's setting. “none”: without it. They change this preview, never the model.",
  "controls.apply": "Apply",
  "controls.reset": "The model's settings",
  "control.k": "Number of articles",
  "control.max_age": "Maximum age (days)",
  "control.half_life": "Half-life (days)",
  "control.dedupe": "Dedupe (cosine from 0 to 1)",
  "control.diversity": "Diversity (from 0 to 1)",
  "control.min_score": "Minimum score",
  "control.model": "model: {value}",
  "control.off": "none",
  "tuning.title": "What it did to recall on the site's own lists (recommender tune):",
  "tuning.row": "{setting}: recall@10 {tune} (TUNE), {confirm} (CONFIRM)",
  "tuning.chosen": "chosen",
  "tuning.kept": "kept",
  "result.article": "Id {id}",
  "box.title": "You may be interested in these articles",
  "box.empty": "No article in the box: check the controls or the date.",
  "box.timing": "Computed in {ms} ms.",
  "site.title": "The site's own list",
  "site.empty": "The corpus had no list for this article.",
  "site.unknown": "not in the model",
  "site.draft": "A draft has no list on the site yet.",
  "mark.pinned": "Pinned",
  "mark.both": "Also in the site's list",
  "mark.both.site": "Also in our box",
  "item.score": "score {score}",
  "item.words": "Shared words:",
  "item.undated": "undated",
  "item.nosection": "no section",
  "item.position": "Position",
  "action.pin": "Pin",
  "action.unpin": "Unpin",
  "action.ban": "Ban from this list",
  "action.ban.all": "Ban from every list",
  "action.undo": "Undo",
  "action.undo.last": "Undo the last change",
  "edits.title": "Pins and bans",
  "edits.pins": "Pinned in this list",
  "edits.bans": "Banned from this list",
  "edits.everywhere": "Banned from every list",
  "edits.none": "None.",
  "edits.position": "position {position}",
  "done.pin": "“{title}” pinned at position {position}.",
  "done.unpin": "“{title}” is no longer pinned.",
  "done.ban": "“{title}” banned from this list.",
  "done.unban": "“{title}” is no longer banned from this list.",
  "done.ban.all": "“{title}” banned from every list.",
  "done.unban.all": "“{title}” is no longer banned from every list.",
  "done.undo": "Undone: {what}",
  "done.nothing": "Nothing to undo.",
  "error": "Error {status}: {message}",
  "error.network": "The service does not answer: {message}",
};

export const LABELS = { fr: FR, en: EN };
export const LANGUAGES = Object.keys(LABELS);
const STORED = "recommender.lang";

let current = "fr";

/** The language chosen last time on this browser (localStorage), else French. */
export function startLanguage() {
  let stored = null;
  try {
    stored = window.localStorage.getItem(STORED);
  } catch (error) {
    stored = null; // storage disabled: French
  }
  current = LANGUAGES.includes(stored) ? stored : "fr";
  return current;
}

export function language() {
  return current;
}

export function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : "fr";
  try {
    window.localStorage.setItem(STORED, current);
  } catch (error) {
    // storage disabled: the choice lasts as long as the page
  }
  return current;
}

/** The text of `key` in the current language, its {slots} filled from `values`. */
export function label(key, values = {}) {
  const text = LABELS[current][key] ?? LABELS.fr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (slot, name) => (name in values ? String(values[name]) : slot));
}

/** The page's fixed words: every element with data-label (its text), data-label-aria
 * (its aria-label) or data-label-placeholder (its placeholder). */
export function applyLabels(root = document) {
  document.documentElement.lang = current;
  for (const node of root.querySelectorAll("[data-label]")) {
    node.textContent = label(node.dataset.label);
  }
  for (const node of root.querySelectorAll("[data-label-aria]")) {
    node.setAttribute("aria-label", label(node.dataset.labelAria));
  }
  for (const node of root.querySelectorAll("[data-label-placeholder]")) {
    node.setAttribute("placeholder", label(node.dataset.labelPlaceholder));
  }
}

/** Numbers and dates as the language writes them. */
export function formatNumber(value, digits = 3) {
  return Number(value).toLocaleString(current === "fr" ? "fr-FR" : "en-GB", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function formatDate(iso) {
  if (!iso) return label("item.undated");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(current === "fr" ? "fr-FR" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
  });
}
