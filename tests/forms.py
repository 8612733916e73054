"""What a browser sends from a form on a page: each field's name and values, as it would submit them."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormState(HTMLParser):
    def __init__(self, action_part: str | None):
        super().__init__()
        self.action_part = action_part
        self.fields: dict[str, list[str]] = {}
        self.action: str | None = None
        self._in_form = False
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def _add(self, name, value):
        self.fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = attrs.get("action")
            wanted = "action" not in attrs if self.action_part is None else self.action_part in (action or "")
            self._in_form = self.action is None and wanted
            if self._in_form:
                self.action = action or ""
        elif not self._in_form:
            return
        elif tag == "input" and attrs.get("name") and attrs.get("type") not in ("submit", "button", "file") and (
                attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs):
            self._add(attrs["name"], attrs.get("value") or ("on" if attrs.get("type") == "checkbox" else ""))
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._add(self._textarea, "")
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = attrs["name"], None, False
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs:
                self._add(self._select, value)
                self._select_chosen = True

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form = False
        elif tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:  # a browser sends the first option
                self._add(self._select, self._select_first)
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._in_form and self._textarea:
            # The newline after <textarea> is not part of the value, as in a browser.
            value = self.fields[self._textarea][-1]
            self.fields[self._textarea][-1] = value + (data if value else data.removeprefix("\r").removeprefix("\n"))


def browser_form(html: str, action_part: str | None = None, *, crlf: bool = True) -> dict[str, list[str]]:
    """The fields of the first form whose action contains `action_part` (None: the first form without an action,
    which posts to the page itself), as a browser submits them: checked boxes
    only, the selected option (else the first), and textareas with their line breaks as CRLF (`crlf`), as every
    browser sends them."""
    parser = _FormState(action_part)
    parser.feed(html)
    if parser.action is None:
        raise AssertionError(f"no form with an action containing {action_part!r}")
    if crlf:
        for name, values in parser.fields.items():
            parser.fields[name] = [v.replace("\r\n", "\n").replace("\n", "\r\n") for v in values]
    return parser.fields
