"""``--box-selector``: the simple CSS selectors a newsroom writes, as XPath for lxml.

A box is named by its class or id (``div.a-lire-aussi``, ``#related``, ``aside.related >
ul``); that much CSS is translated here, in a few lines, rather than adding a package for
the whole of CSS. What is read:

* a type (``div``, ``*``) followed by any number of ``.class``, ``#id``, ``[attr]``,
  ``[attr=value]``, ``[attr~=value]``, ``[attr^=value]``, ``[attr$=value]``,
  ``[attr*=value]`` (values bare or quoted);
* combined by a space (descendant) or ``>`` (child); several selectors by ``,``.

Anything else (pseudo-classes such as ``:nth-child``, ``+`` and ``~``) is a one-line
:class:`~recommender.errors.ParameterError` that says what is read.
"""

from __future__ import annotations

import re

from ..errors import ParameterError

__all__ = ["css_to_xpath"]

_TOKEN = re.compile(r"""
    \s*(?P<combinator>[>,])\s*
  | (?P<space>\s+)
  | (?P<type>\*|[A-Za-z][\w-]*)
  | \.(?P<cls>-?[A-Za-z_][\w-]*)
  | \#(?P<id>[\w-]+)
  | \[\s*(?P<attr>[A-Za-z_:][\w:.-]*)\s*
       (?:(?P<op>[~^$*]?=)\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[\w-]+))\s*)?\]
""", re.VERBOSE)

_SUPPORTED = ("a type, .class, #id, [attr], [attr=value] (also ~= ^= $= *=), joined by a "
              "space or '>', several by ','")


def _literal(text: str) -> str:
    """``text`` as an XPath string literal (concat() when it holds both quote kinds)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in text.split("'")) + ")"


def _condition(found: re.Match) -> str:
    if found["cls"] is not None:
        return f"contains(concat(' ', normalize-space(@class), ' '), ' {found['cls']} ')"
    if found["id"] is not None:
        return f"@id={_literal(found['id'])}"
    attr, op = f"@{found['attr']}", found["op"]
    if op is None:
        return attr
    value = next(v for v in (found["dq"], found["sq"], found["bare"]) if v is not None)
    literal = _literal(value)
    return {
        "=": f"{attr}={literal}",
        "~=": f"contains(concat(' ', normalize-space({attr}), ' '), {_literal(f' {value} ')})",
        "^=": f"starts-with({attr}, {literal})",
        "$=": f"substring({attr}, string-length({attr}) - {len(value) - 1})={literal}",
        "*=": f"contains({attr}, {literal})",
    }[op]


def css_to_xpath(selector: str) -> str:
    """The XPath (from the document's root) of the CSS ``selector``; ParameterError for a
    selector outside the subset this module reads."""
    text = selector.strip()
    if not text:
        raise ParameterError("--box-selector is empty; give a CSS selector such as "
                             "'div.related' or '#related'")
    paths, steps, axis, step = [], [], "//", None
    position = 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise ParameterError(f"--box-selector {selector!r}: cannot read "
                                 f"{text[position:position + 20]!r} at character "
                                 f"{position + 1}; this option reads {_SUPPORTED}")
        position = found.end()
        if found["type"] is not None:
            if step is not None:
                raise ParameterError(f"--box-selector {selector!r}: a type must come first in "
                                     f"a compound selector; this option reads {_SUPPORTED}")
            step = [found["type"].lower(), []]
        elif found["combinator"] is not None or found["space"] is not None:
            if step is None:
                raise ParameterError(f"--box-selector {selector!r}: a combinator with no "
                                     f"selector before it; this option reads {_SUPPORTED}")
            steps.append(axis + step[0] + "".join(f"[{c}]" for c in step[1]))
            step = None
            if found["combinator"] == ",":
                paths.append("".join(steps))
                steps, axis = [], "//"
            else:
                axis = "/" if found["combinator"] == ">" else "//"
        else:
            if step is None:
                step = ["*", []]
            step[1].append(_condition(found))
    if step is None:
        raise ParameterError(f"--box-selector {selector!r} ends with a combinator; this "
                             f"option reads {_SUPPORTED}")
    steps.append(axis + step[0] + "".join(f"[{c}]" for c in step[1]))
    paths.append("".join(steps))
    return " | ".join(paths)
