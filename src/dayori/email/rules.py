"""What the email layout must not rely on, because Outlook for Windows (2007–2019, the Word engine) ignores it.

Facts come from caniemail.com (https://www.caniemail.com/, repository hteumeuleu/caniemail, MIT licence);
each rule names its feature slug, so `https://www.caniemail.com/features/<slug>/` is the citation. The tests
cross-check every slug against the caniemail table for Outlook Windows 2016 and 2019. Rules without a slug
are the project's own policy (nothing may load from another host; clients strip scripts).

Forbidden features break the layout or lose content where unsupported. Enhancements are unsupported by Outlook
too, but the layout already works without them (ghost tables fix the width, VML draws the button), so they may
appear in inline styles; everything else that only some clients understand lives inside `@media` blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import html as lxml_html
from lxml.html import HtmlElement

CANIEMAIL = "https://www.caniemail.com/features/{slug}/"
OUTLOOK_WINDOWS = ("2016", "2019")


@dataclass(frozen=True)
class CssRule:
    """A CSS declaration: `property` (a trailing `*` is a prefix, `*` alone any property) and, when set,
    a regular expression its value must match."""

    slug: str
    property: str
    value: str | None = None
    why: str = ""

    def matches(self, prop: str, value: str) -> bool:
        if self.property == "*":
            pass
        elif self.property.endswith("*"):
            if not prop.startswith(self.property[:-1]):
                return False
        elif prop != self.property:
            return False
        return self.value is None or re.search(self.value, value, re.I) is not None


@dataclass(frozen=True)
class ElementRule:
    """An HTML element (or attribute) the email must not contain."""

    slug: str | None
    tag: str
    attribute: str | None = None
    why: str = ""


FORBIDDEN_CSS: tuple[CssRule, ...] = (
    CssRule("css-display-flex", "display", r"\b(inline-)?flex\b", "段組みが崩れます"),
    CssRule("css-display-grid", "display", r"\b(inline-)?grid\b", "段組みが崩れます"),
    CssRule("css-flex-direction", "flex-direction", None, "flex は無視されます"),
    CssRule("css-flex-wrap", "flex-wrap", None, "flex は無視されます"),
    CssRule("css-justify-content", "justify-content", None, "flex/grid の配置は無視されます"),
    CssRule("css-align-items", "align-items", None, "flex/grid の配置は無視されます"),
    CssRule("css-gap", "gap", None, "flex/grid の間隔は無視されます"),
    CssRule("css-grid-template", "grid-template*", None, "grid は無視されます"),
    CssRule("css-position", "position", None, "重ね合わせが崩れます"),
    CssRule("css-left-right-top-bottom", "left", None, "position と共に無視されます"),
    CssRule("css-left-right-top-bottom", "right", None, "position と共に無視されます"),
    CssRule("css-left-right-top-bottom", "top", None, "position と共に無視されます"),
    CssRule("css-left-right-top-bottom", "bottom", None, "position と共に無視されます"),
    CssRule("css-z-index", "z-index", None, "重ね合わせは無視されます"),
    CssRule("css-float", "float", None, "回り込みが崩れます"),
    CssRule("css-variables", "--*", None, "カスタムプロパティは無視されます"),
    CssRule("css-variables", "*", r"\bvar\(", "var() の値は無視されます"),
    CssRule("css-background-image", "background-image", None, "背景画像は表示されません"),
    CssRule("css-background-image", "background", r"\burl\(", "背景画像は表示されません"),
    CssRule("css-linear-gradient", "*", r"\blinear-gradient\(", "グラデーションは表示されません"),
    CssRule("css-radial-gradient", "*", r"\bradial-gradient\(", "グラデーションは表示されません"),
    CssRule("css-transform", "transform", None, "変形は無視されます"),
    CssRule("css-unit-calc", "*", r"\bcalc\(", "calc() の値は無視されます"),
    CssRule("css-function-min", "*", r"\bmin\(", "min() の値は無視されます"),
    CssRule("css-function-max", "*", r"\bmax\(", "max() の値は無視されます"),
    CssRule("css-function-clamp", "*", r"\bclamp\(", "clamp() の値は無視されます"),
    CssRule("css-unit-rem", "*", r"\d(\.\d+)?rem\b", "rem 単位は無視されます"),
    CssRule("css-unit-vw", "*", r"\d(\.\d+)?vw\b", "vw 単位は無視されます"),
    CssRule("css-unit-vh", "*", r"\d(\.\d+)?vh\b", "vh 単位は無視されます"),
    CssRule("css-rgba", "*", r"\brgba\(", "半透明色は表示されません"),
    CssRule("css-aspect-ratio", "aspect-ratio", None, "縦横比は無視されます"),
    CssRule("css-object-fit", "object-fit", None, "画像の切り抜きは無視されます"),
    CssRule("css-box-shadow", "box-shadow", None, "影は表示されません"),
    CssRule("css-text-shadow", "text-shadow", None, "影は表示されません"),
    CssRule("css-min-width", "min-width", None, "最小幅は無視されます"),
    CssRule("css-min-height", "min-height", None, "最小高さは無視されます"),
)

ENHANCEMENTS: tuple[CssRule, ...] = (
    CssRule("css-max-width", "max-width", None, "Outlook の幅は条件付きコメントの 600px の表で固定します"),
    CssRule("css-max-height", "max-height", None, "プレヘッダーを隠すため。Outlook では mso-hide:all が隠します"),
    CssRule("css-opacity", "opacity", None, "プレヘッダーを隠すため。Outlook では mso-hide:all が隠します"),
    CssRule("css-overflow", "overflow", None, "表やコードを横スクロールさせるため。なくても内容は読めます"),
    CssRule("css-overflow", "overflow-x", None, "表やコードを横スクロールさせるため。なくても内容は読めます"),
    CssRule("css-border-radius", "border-radius", None, "角丸。Outlook では VML のボタンが代わりに描かれます"),
    CssRule("css-white-space", "white-space", None, "コードの折り返し。Outlook は <pre> で改行を保ちます"),
    CssRule("css-overflow-wrap", "overflow-wrap", None, "長い URL の折り返し"),
    CssRule("css-word-wrap", "word-wrap", None, "長い URL の折り返し"),
    CssRule("css-word-break", "word-break", None, "長い URL の折り返し"),
    CssRule("css-text-decoration-line", "text-decoration-line", None, "下線の指定。text-decoration で代替"),
    CssRule("css-color-scheme", "color-scheme", None, "ダークモード対応の宣言。なくても読めます"),
    CssRule("css-table-layout", "table-layout", None, "スマートフォンで長い内容が枠を広げないため。Outlook は固定幅"),
)

FORBIDDEN_ELEMENTS: tuple[ElementRule, ...] = (
    ElementRule("html-video", "video", why="動画はメールで再生できません。静止画とリンクにしてください"),
    ElementRule("html-audio", "audio", why="音声はメールで再生できません"),
    ElementRule("html-svg", "svg", why="SVG は表示されません。PNG にしてください"),
    ElementRule("html-form", "form", why="フォームは使えません"),
    ElementRule("html-input-text", "input", why="入力欄は使えません"),
    ElementRule("html-textarea", "textarea", why="入力欄は使えません"),
    ElementRule("html-select", "select", why="選択欄は使えません"),
    ElementRule("html-button-submit", "button", why="ボタン要素は使えません"),
    ElementRule("html-object", "object", why="埋め込みは表示されません"),
    ElementRule("html-picture", "picture", why="<picture> は表示されません"),
    ElementRule("html-dialog", "dialog", why="<dialog> は使えません"),
    ElementRule("html-semantics", "details", why="折りたたみは表示されません"),
    ElementRule("html-semantics", "summary", why="折りたたみは表示されません"),
    ElementRule("html-semantics", "figure", why="HTML5 の意味要素は無視されます"),
    ElementRule("html-semantics", "figcaption", why="HTML5 の意味要素は無視されます"),
    ElementRule("html-semantics", "section", why="HTML5 の意味要素は無視されます"),
    ElementRule("html-semantics", "article", why="HTML5 の意味要素は無視されます"),
    ElementRule("html-semantics", "header", why="HTML5 の意味要素は無視されます"),
    ElementRule("html-semantics", "footer", why="HTML5 の意味要素は無視されます"),
    ElementRule("html-semantics", "nav", why="HTML5 の意味要素は無視されます"),
    ElementRule("html-ruby", "ruby", why="ルビは表示されません"),
    ElementRule("html-wbr", "wbr", why="<wbr> は無視されます"),
    ElementRule("html-srcset", "img", "srcset", why="srcset は無視されます"),
    ElementRule("html-hidden", "*", "hidden", why="hidden 属性は無視され、隠した内容が見えます"),
    ElementRule(None, "script", why="スクリプトはメールで動きません"),
    ElementRule(None, "iframe", why="埋め込みは表示されません"),
    ElementRule(None, "embed", why="埋め込みは表示されません"),
    ElementRule(None, "link", why="外部のスタイルシートは読み込まれず、他のホストからの読み込みは禁止です"),
)

_DECLARATION = re.compile(r"([-\w]+)\s*:\s*([^;]+)")
_MEDIA_BLOCK = re.compile(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", re.S)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def declarations(css: str) -> list[tuple[str, str]]:
    """(property, value) pairs of a style attribute or of a style block's rule bodies."""
    css = _CSS_COMMENT.sub("", css)
    bodies = re.findall(r"\{([^{}]*)\}", css) if "{" in css else [css]
    return [(m.group(1).lower(), m.group(2).strip()) for body in bodies for m in _DECLARATION.finditer(body)]


def outside_media(css: str) -> str:
    """A style block without its `@media` rules, which Outlook skips as a whole."""
    return _MEDIA_BLOCK.sub("", _CSS_COMMENT.sub("", css))


_BY_PROPERTY: dict[str, tuple[CssRule, ...]] = {
    name: tuple(rule for rule in FORBIDDEN_CSS if rule.property == name)
    for name in {rule.property for rule in FORBIDDEN_CSS if not rule.property.endswith("*")}}
_ANY_PROPERTY = tuple(rule for rule in FORBIDDEN_CSS if rule.property.endswith("*"))
_ANY_VALUE = re.compile("|".join(rule.value for rule in FORBIDDEN_CSS if rule.property == "*" and rule.value), re.I)


def _css_violation(prop: str, value: str) -> CssRule | None:
    candidates = _BY_PROPERTY.get(prop, ())
    if prop.startswith("--") or _ANY_VALUE.search(value):
        candidates += _ANY_PROPERTY
    return next((rule for rule in candidates if rule.matches(prop, value)), None)


def violations(html: str) -> list[str]:
    """Forbidden CSS and elements in (a fragment of) an email's HTML, as Japanese sentences naming the
    caniemail feature.

    Conditional comments (`<!--[if mso]>`) are invisible here on purpose: they are written for Outlook.
    """
    return violations_in(lxml_html.document_fromstring(html))


def _sentence(element: HtmlElement, rule: ElementRule) -> str:
    name = f"<{element.tag} {rule.attribute}>" if rule.attribute else f"<{element.tag}>"
    cite = f"。{CANIEMAIL.format(slug=rule.slug)}" if rule.slug else ""
    return f"{name} はメールで使えません（{rule.why}{cite}）"


_RULES_BY_TAG: dict[str, tuple[int, ...]] = {
    tag: tuple(number for number, rule in enumerate(FORBIDDEN_ELEMENTS) if rule.tag == tag)
    for tag in {rule.tag for rule in FORBIDDEN_ELEMENTS if rule.tag != "*"}}
_ANY_TAG_RULES = tuple(number for number, rule in enumerate(FORBIDDEN_ELEMENTS) if rule.tag == "*")


def violations_in(tree: HtmlElement) -> list[str]:
    """`violations` of an already parsed tree, read in one walk (not one per rule): the same sentences, in
    the order of the rules and, for each, of the elements."""
    found: list[str] = []
    styles: set[str] = set()
    by_rule: list[list[str]] = [[] for _ in FORBIDDEN_ELEMENTS]
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag == "style":
            styles.add(outside_media(element.text or ""))
        styles.add(element.get("style", ""))
        for number in (*_RULES_BY_TAG.get(tag, ()), *_ANY_TAG_RULES):
            element_rule = FORBIDDEN_ELEMENTS[number]
            if element_rule.attribute is None or element.get(element_rule.attribute) is not None:
                by_rule[number].append(_sentence(element, element_rule))
    declared = {declaration for css in styles if css for declaration in declarations(css)}
    for prop, value in sorted(declared):
        rule = _css_violation(prop, value)
        if rule is not None:
            found.append(f"CSS「{prop}: {value}」は Outlook（Windows）で使えません（{rule.why}。"
                         f"{CANIEMAIL.format(slug=rule.slug)}）")
    for messages in by_rule:
        found += messages
    return list(dict.fromkeys(found))
