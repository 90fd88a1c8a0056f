// Pins and bans as calls of the service, and the calls that undo each (pure functions).

import { articlePath, withQuery } from "./api.js";

/** The label of the message each change shows. */
export const DONE = { pin: "done.pin", unpin: "done.unpin", ban: "done.ban", unban: "done.unban",
  "ban-all": "done.ban.all", "unban-all": "done.unban.all" };

/** The call of a change: [method, path] (`kind`: pin, unpin, ban, unban, ban-all,
 * unban-all). */
export function editRequest(kind, source, target, position) {
  const onList = kind === "pin" || kind === "unpin" ? "pins" : "bans";
  const path = kind.endsWith("-all")
    ? `/bans/${encodeURIComponent(target)}`
    : articlePath(source, onList, target);
  const method = kind.startsWith("un") ? "DELETE" : "PUT";
  return [method, kind === "pin" ? withQuery(path, { position }) : path];
}

/** The calls that undo `kind` of `target` in the list of `source`, from that list's pins
 * and bans before the change (`list`: {pins: [{id, position}], bans: [ids]}): a pin that
 * lifted a ban bans again, a ban that lifted a pin pins again at its position. */
export function undoSteps(kind, source, target, list) {
  const pinned = list.pins.find((pin) => pin.id === target);
  const banned = list.bans.includes(target);
  if (kind === "pin") {
    return [
      pinned ? editRequest("pin", source, target, pinned.position)
        : editRequest("unpin", source, target),
      ...(banned ? [editRequest("ban", source, target)] : []),
    ];
  }
  if (kind === "ban") {
    return [
      editRequest("unban", source, target),
      ...(pinned ? [editRequest("pin", source, target, pinned.position)] : []),
    ];
  }
  if (kind === "ban-all") return [editRequest("unban-all", source, target)];
  if (kind === "unpin") return [editRequest("pin", source, target, pinned?.position ?? 1)];
  if (kind === "unban") return [editRequest("ban", source, target)];
  return [editRequest("ban-all", source, target)];
}
