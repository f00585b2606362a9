"""Reading rendered pages the way a person or a screen reader does: fields, labels, buttons, notices."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    """One element of a page: its tag, attributes and the text inside it."""

    tag: str
    attrs: dict[str, str | None]
    chunks: list[str] = field(default_factory=list)
    descendants: list["Element"] = field(default_factory=list, repr=False)

    def find_all(self, tag: str | None = None, **attrs: str) -> list["Element"]:
        """Elements inside this one that match (see Page.find_all)."""
        return _matching(self.descendants, tag, attrs)

    def find(self, tag: str | None = None, **attrs: str) -> "Element | None":
        """The first element inside this one that matches, or None."""
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def selected_option(self) -> str | None:
        """For a <select>: the value of its selected option."""
        chosen = [option for option in self.find_all("option") if "selected" in option.attrs]
        return chosen[-1].attrs.get("value") if chosen else None

    @property
    def text(self) -> str:
        """The text inside, with runs of white space folded to one space."""
        return " ".join("".join(self.chunks).split())

    @property
    def classes(self) -> set[str]:
        """The element's CSS classes."""
        return set((self.attrs.get("class") or "").split())


def _matching(elements: list[Element], tag: str | None, attrs: dict[str, str]) -> list[Element]:
    found = []
    for element in elements:
        if tag is not None and element.tag != tag:
            continue
        wanted_class = attrs.get("class_")
        if wanted_class is not None and wanted_class not in element.classes:
            continue
        if any(element.attrs.get(name) != value for name, value in attrs.items() if name != "class_"):
            continue
        found.append(element)
    return found


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        element = Element(tag, dict(attrs))
        self._add(element)
        if tag not in VOID_TAGS:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self._add(Element(tag, dict(attrs)))

    def _add(self, element: Element) -> None:
        self.elements.append(element)
        for ancestor in self._open:
            ancestor.descendants.append(element)

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        for element in self._open:
            element.chunks.append(data)


class Page:
    """A parsed HTML response."""

    def __init__(self, html: str) -> None:
        self.html = html
        collector = _Collector()
        collector.feed(html)
        collector.close()
        self.elements = collector.elements

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements with this tag (any if None) whose attributes have these values (class_ matches one class)."""
        return _matching(self.elements, tag, attrs)

    def find(self, tag: str | None = None, **attrs: str) -> Element | None:
        """The first element find_all would return, or None."""
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def field(self, name: str) -> Element | None:
        """The form control (input, textarea, select) submitted as `name`."""
        for element in self.elements:
            if element.tag in ("input", "textarea", "select") and element.attrs.get("name") == name:
                return element
        return None

    def labelled(self, label_text: str) -> Element | None:
        """The form control whose accessible name is label_text (<label for> or aria-label)."""
        for label in self.find_all("label"):
            if label.text == label_text and label.attrs.get("for"):
                control = self.find(id=label.attrs["for"])
                if control is not None:
                    return control
        for element in self.elements:
            if element.tag in ("input", "textarea", "select") and element.attrs.get("aria-label") == label_text:
                return element
        return None

    def button(self, name: str) -> Element | None:
        """The button whose text is name."""
        for element in self.find_all("button"):
            if element.text == name:
                return element
        return None

    def notices(self) -> list[str]:
        """The flashed notices at the top of the page and the errors under form fields, as shown."""
        return [element.text for element in self.elements if element.classes & {"flash", "field-error"}]

    def text(self) -> str:
        """All the text of the page's <main>, as a reader sees it."""
        main = self.find("main")
        return main.text if main is not None else ""


def page(response) -> Page:  # type: ignore[no-untyped-def]
    """Parse a test-client response as a Page."""
    return Page(response.get_data(as_text=True))


def redirect_target(response, base: str = "http://localhost/") -> tuple[str, str, dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    """Where a browser goes after this redirect: (host, path, query), reading '\\' as '/' as browsers do."""
    location = response.headers["Location"].replace("\\", "/")
    absolute = urlsplit(urljoin(base, location))
    return absolute.netloc, absolute.path, parse_qs(absolute.query)
