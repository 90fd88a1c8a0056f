// The service's token, asked in a dialog when a change needs it (kept by api.js in
// sessionStorage only, for this tab's session).

import { byId } from "./dom.js";

let tokenAnswer = null;

/** Ask the token in the dialog: a promise of it, or null if the editor closes it. */
export function askToken(reason = "") {
  const dialog = byId("token-dialog");
  byId("token-reason").textContent = reason;
  byId("token-input").value = "";
  return new Promise((resolve) => {
    tokenAnswer = resolve;
    if (!dialog.open) dialog.showModal();
    byId("token-input").focus();
  });
}

export function closeToken(value) {
  const dialog = byId("token-dialog");
  if (dialog.open) dialog.close();
  const resolve = tokenAnswer;
  tokenAnswer = null;
  if (resolve) resolve(value || null);
}
