"""The rendered body made email-safe, and what an editor should know about it.

Material for MkDocs markup (admonitions, details, tabs, custom task lists) relies on the theme's CSS and
JavaScript, which no mail client has; it is rewritten into tables and plain characters that read the same in
Outlook, Gmail and on a phone, and each rewrite is reported so that the editor can check the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape as html_escape
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from dayori.urls import absolutize

CONTENT_WIDTH = 552
"""The body column: the 600-px layout minus 24-px padding either side."""

BOX_COLOURS = {
    "note": "#448aff", "abstract": "#00b0ff", "info": "#00b8d4", "tip": "#00bfa5", "success": "#00c853",
    "question": "#64dd17", "warning": "#ff9100", "failure": "#ff5252", "danger": "#ff1744",
    "bug": "#f50057", "example": "#7c4dff", "quote": "#9e9e9e",
}
BOX_ALIASES = {"summary": "abstract", "tldr": "abstract", "todo": "info", "hint": "tip", "important": "tip",
               "check": "success", "done": "success", "help": "question", "faq": "question",
               "caution": "warning", "attention": "warning", "fail": "failure", "missing": "failure",
               "error": "danger", "cite": "quote"}
BOX_TITLES = {"note": "メモ", "abstract": "要約", "info": "情報", "tip": "ヒント", "success": "成功",
              "question": "質問", "warning": "注意", "failure": "失敗", "danger": "危険", "bug": "不具合",
              "example": "例", "quote": "引用"}
_UNSUPPORTED = ("video", "audio", "iframe", "embed", "object", "form", "svg", "picture",
                "select", "textarea", "button", "dialog")
_CONTAINERS = ("section", "article", "header", "footer", "nav", "aside", "main")


Notice = tuple[str, "str | None"]
"""A message for the editor and the text to look for in the Markdown to find its line."""


@dataclass
class EmailBody:
    """The body as email HTML, its element tree (for the plain-text part) and the editor's notices."""

    html: str
    root: HtmlElement
    notices: list[Notice] = field(default_factory=list)


def email_body(html: str, page_url: str, sizes: Mapping[str, tuple[int, int]],
               names: Mapping[str, str]) -> EmailBody:
    """`html` is the body as rendered and sanitised for the site (`dayori.sanitize.clean`, page-relative links);
    `page_url` the page's absolute URL. What remains to drop here is what mail clients cannot show.

    `sizes` maps absolute image URLs to (width, height) read from the image files, `names` to the file
    names editors wrote.
    """
    root = _fragment(html)
    classes = _class_index(root)
    notices = _lint(root, classes, page_url, names)
    for headerlink in classes.get("headerlink", []):
        headerlink.drop_tree()
    _boxes(root)
    _tabs(classes)
    _task_lists(classes)
    for backref in classes.get("footnote-backref", []):
        _drop(backref)
    notices += _images(root, page_url, sizes, names)
    _tables(root)
    _code(root, classes)
    notices += _unsupported(root)
    inner = "".join(lxml_html.tostring(child, encoding="unicode") for child in root)
    return EmailBody(html=absolutize(html_escape(root.text or "") + inner, page_url), root=root,
                     notices=list(dict.fromkeys(notices)))


def _fragment(html: str) -> HtmlElement:
    """`lxml.html.fragment_fromstring(html, create_parent="div")`, whose elements are all `HtmlElement`: the
    tree is walked again and again (rewrites, rules, plain text), and lxml.html asks a Python method which
    class each element it hands out is (a form's, an input's…, whose properties nothing here uses), a tenth of
    the time of those walks."""
    elements = lxml_html.fragments_fromstring(html, parser=_PARSER)
    root: HtmlElement = _PARSER.makeelement("div")
    if elements and isinstance(elements[0], str):
        root.text = elements.pop(0)
    root.extend(elements)
    return root


_PARSER = etree.HTMLParser()
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=lxml_html.HtmlComment, pi=lxml_html.HtmlProcessingInstruction,
    entity=lxml_html.HtmlEntity))


def _class_index(root: HtmlElement) -> dict[str, list[HtmlElement]]:
    """Elements of the rendered body by class, found in one walk; rewrites move them but never lose them."""
    index: dict[str, list[HtmlElement]] = {}
    for element in root.iter():
        if isinstance(element.tag, str):
            for name in (element.get("class") or "").split():
                index.setdefault(name, []).append(element)
    return index


def _lint(root: HtmlElement, classes: Mapping[str, list[HtmlElement]], page_url: str,
          names: Mapping[str, str]) -> list[Notice]:
    notices: list[Notice] = []
    for img in root.iter("img"):
        if not (img.get("alt") or "").strip():
            name = _name(img.get("src"), page_url, names)
            notices.append((f"画像 {name} に代替テキストがありません。![説明](画像) の説明を書いてください"
                            "（画像を表示しない受信者に内容が伝わりません）", name))
    for element in root.iter("a", "img"):
        url = element.get("href" if element.tag == "a" else "src")
        if url is None or url.strip() in ("", "#"):
            if element.tag == "a" and "headerlink" not in element.classes:
                label = _label(element)
                notices.append((f"リンク「{label}」の行き先が空です。URL を書いてください", label))
        elif url.lower().startswith("http:"):
            notices.append((f"{url} は http: です。https: の URL にしてください（メールソフトが警告を出します）", url))
    if any(True for _ in root.iter("details")):
        notices.append(("折りたたみ（??? など）はメールでは開いた状態の囲みとして表示されます。表示を確認してください",
                        "???"))
    if "tabbed-set" in classes:
        notices.append(("タブ（=== など）はメールでは切り替えられないため、各タブを見出し付きの囲みで順に並べます。"
                        "表示を確認してください", "=== "))
    return notices


def _name(src: str | None, page_url: str, names: Mapping[str, str]) -> str:
    """The file name the editor wrote, not the content-addressed one the site publishes."""
    url = urljoin(page_url, src or "")
    return names.get(url) or (src or "").rsplit("/", 1)[-1] or "（src なし）"


def _label(element: HtmlElement) -> str:
    text = " ".join(element.text_content().split())
    return text[:40] or "（文字なし）"


def _box(title: str, kind: str, children: list[HtmlElement], text: str | None) -> HtmlElement:
    """A bordered one-cell table with a title row: the shape every client, Outlook included, draws."""
    colour = BOX_COLOURS.get(kind, BOX_COLOURS["note"])
    box = lxml_html.Element("table", {"role": "presentation", "class": "box", "width": "100%", "cellpadding": "0",
                                      "cellspacing": "0", "border": "0",
                                      "style": f"border:1px solid {colour};border-left:4px solid {colour};"})
    title_cell = etree.SubElement(etree.SubElement(box, "tr"), "td", {
        "class": "box-title", "bgcolor": "#f5f5f5", "style": f"border-bottom:1px solid {colour};"})
    body_cell = etree.SubElement(etree.SubElement(box, "tr"), "td", {"class": "box-body"})
    title_cell.text = title
    body_cell.text = text
    body_cell.extend(children)
    return box


def _kind(classes: set[str]) -> str:
    for name in classes:
        name = BOX_ALIASES.get(name, name)
        if name in BOX_COLOURS:
            return name
    return "note"


def _boxes(root: HtmlElement) -> None:
    """Admonitions and details become boxes; details stay open because email cannot toggle."""
    for element in list(root.iter("div", "details")):
        if element.tag == "div" and "admonition" not in element.classes:
            continue
        kind = _kind(set(element.classes))
        if element.tag == "details":
            summary = element.find("summary")
            title = summary.text_content().strip() if summary is not None else BOX_TITLES[kind]
            if summary is not None:
                _drop(summary)
        else:
            heading = next(iter(_with_class(element, "admonition-title")), None)
            title = heading.text_content().strip() if heading is not None else BOX_TITLES[kind]
            if heading is not None:
                _drop(heading)
        _replace(element, _box(title or BOX_TITLES[kind], kind, list(element), element.text))


def _tabs(classes: Mapping[str, list[HtmlElement]]) -> None:
    """Tabs cannot switch in email: each tab becomes a box titled with its label, in order."""
    for tabbed in classes.get("tabbed-set", []):
        labels = [label.text_content().strip() for label in tabbed.iter("label")]
        blocks = [block for block in _with_class(tabbed, "tabbed-block")]
        if not blocks:
            blocks = [block for block in _with_class(tabbed, "tabbed-content")]
        wrapper = lxml_html.Element("div")
        for index, block in enumerate(blocks):
            title = labels[index] if index < len(labels) else f"タブ {index + 1}"
            wrapper.append(_box(title, "quote", list(block), block.text))
        _replace(tabbed, wrapper)


def _task_lists(classes: Mapping[str, list[HtmlElement]]) -> None:
    """Custom checkboxes are drawn by the theme's CSS; in email a character says checked or not."""
    for item in classes.get("task-list-item", []):
        checkbox = next(item.iter("input"), None)
        mark = "☑ " if checkbox is not None and checkbox.get("checked") is not None else "☐ "
        control = next(iter(_with_class(item, "task-list-control")), None)
        for element in [control] if control is not None else ([checkbox] if checkbox is not None else []):
            _drop(element)
        item.text = mark + (item.text or "").lstrip()
        item.set("style", "list-style-type:none;")
    for task_list in classes.get("task-list", []):
        task_list.set("style", "padding-left:0;")


def _images(root: HtmlElement, page_url: str, sizes: Mapping[str, tuple[int, int]],
            names: Mapping[str, str]) -> list[Notice]:
    notices: list[Notice] = []
    for img in root.iter("img"):
        src = urljoin(page_url, img.get("src") or "")
        size = sizes.get(src) or _attribute_size(img)
        for attribute in ("srcset", "sizes", "loading", "decoding"):
            img.attrib.pop(attribute, None)
        if img.get("alt") is None:
            img.set("alt", "")
        if size is None:
            name = _name(img.get("src"), page_url, names)
            notices.append((f"画像 {name} の幅が分かりません。PNG・JPEG・GIF にするか、"
                            "{ width=\"600\" height=\"…\" } で大きさを指定してください"
                            "（Outlook で原寸のまま表示され、はみ出します）", name))
            img.set("style", "display:block;max-width:100%;height:auto;border:0;")
            continue
        width, height = _fit(size, CONTENT_WIDTH)
        img.set("width", str(width))
        img.set("height", str(height))
        img.set("border", "0")
        img.set("style", f"display:block;width:{width}px;max-width:100%;height:auto;border:0;")
    return notices


def _attribute_size(img: HtmlElement) -> tuple[int, int] | None:
    width, height = img.get("width", ""), img.get("height", "")
    if not width.isdigit():
        return None
    if height.isdigit():
        return int(width), int(height)
    return None


def _fit(size: tuple[int, int], limit: int) -> tuple[int, int]:
    width, height = size
    if width <= limit:
        return width, height
    return limit, max(1, round(height * limit / width))


def _tables(root: HtmlElement) -> None:
    """Data tables keep borders as attributes (Outlook) and scroll sideways inside a box on phones."""
    for table in list(root.iter("table")):
        if "box" in table.classes:
            continue
        table.set("border", "1")
        table.set("cellpadding", "6")
        table.set("cellspacing", "0")
        table.set("class", "data")
        parent = table.getparent()
        if parent is not None and parent.tag == "div" and "scroll" in parent.classes:
            continue
        scroller = lxml_html.Element("div", {"class": "scroll"})
        _replace(table, scroller)
        table.tail = None
        scroller.append(table)


def _code(root: HtmlElement, classes: Mapping[str, list[HtmlElement]]) -> None:
    """Highlighted code keeps its text; the colours of the site's theme do not travel to email."""
    for block in classes.get("highlight", []):
        pre = next(block.iter("pre"), None)
        if pre is not None and block.tag != "pre":
            _replace(block, pre)
    for pre in root.iter("pre"):
        pre.set("class", "code")
        for span in list(pre.iter("span")):
            if not span.text and not len(span):
                _drop(span)


def _unsupported(root: HtmlElement) -> list[Notice]:
    notices: list[Notice] = []
    for element in list(root.iter(*_UNSUPPORTED)):
        if element.getparent() is None:
            continue
        link = element.get("src") or next((s.get("src") for s in element.iter("source") if s.get("src")), None)
        notices.append((f"<{element.tag}> はメールで表示できないため省きました"
                        + ("（リンクに置き換えました）" if link and element.tag in ("video", "audio", "iframe") else ""),
                        f"<{element.tag}"))
        if link and element.tag in ("video", "audio", "iframe"):
            anchor = lxml_html.Element("a", {"href": link})
            anchor.text = "▶ サイトで再生する"
            paragraph = lxml_html.Element("p")
            paragraph.append(anchor)
            _replace(element, paragraph)
        else:
            _drop(element)
    for element in list(root.iter("input", "label", "wbr")):
        if element.tag == "label":
            element.drop_tag()
        else:
            _drop(element)
    for ruby in list(root.iter("ruby")):
        readings = [rt.text_content() for rt in ruby.iter("rt")]
        for helper in list(ruby.iter("rt", "rp")):
            _drop(helper)
        ruby.tail = (f"（{''.join(readings)}）" if readings else "") + (ruby.tail or "")
        ruby.drop_tag()
    for element in list(root.iter("figure", "figcaption", *_CONTAINERS)):
        if element.tag == "figcaption":
            element.tag = "p"
            element.set("class", "caption")
        else:
            element.tag = "div"
    for element in root.iter():
        if isinstance(element.tag, str):
            element.attrib.pop("hidden", None)
    return notices


def _with_class(element: HtmlElement, name: str) -> list[HtmlElement]:
    """Descendants with a class; a plain walk, because lxml's find_class (XPath) costs more on small bodies."""
    return [child for child in element.iter() if child is not element and isinstance(child.tag, str)
            and name in (child.get("class") or "").split()]


def _drop(element: HtmlElement) -> None:
    """Removes an element and its content; lxml keeps the text that followed it."""
    element.drop_tree()


def _replace(old: HtmlElement, new: HtmlElement) -> None:
    new.tail = old.tail
    old.getparent().replace(old, new)

