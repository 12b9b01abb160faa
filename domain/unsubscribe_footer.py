"""Every email that offers an unsubscribe link shows it: a tenant's layout or template may
leave `{{ unsubscribe_url }}` out, and then Herald adds a footer with it, to the HTML and to the
text. Mail providers (Gmail's and Yahoo's bulk-sender rules) and the law in many places want a
visible way out besides the List-Unsubscribe header."""

import html as html_lib
import re

FOOTER_TEXT = "Unsubscribe from these emails"
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def with_unsubscribe_link(html: str | None, text: str, url: str) -> tuple[str | None, str]:
    """`html` and `text`, each with a footer linking to `url` unless it already links there
    (HTML: an `href` to it; text: the URL itself)."""
    escaped = html_lib.escape(url, quote=True)
    if html is not None and not links_to(html, escaped):
        footer = (
            '<p style="font-family: Helvetica, Arial, sans-serif; font-size: 12px;'
            ' color: #7b8794; text-align: center;">'
            f'<a href="{escaped}" style="color: #7b8794;">{FOOTER_TEXT}</a></p>'
        )
        ends = list(_BODY_END.finditer(html))
        at = ends[-1].start() if ends else len(html)
        html = html[:at] + footer + html[at:]
    if url not in text:
        text = f"{text.rstrip()}\n\n{FOOTER_TEXT}: {url}"
    return html, text


def links_to(html: str, escaped_url: str) -> bool:
    """Whether `html` has the URL as an attribute: `href`, optional spaces, `=`, optional
    spaces, an optional quote, the URL. Read backwards from each place the URL occurs: a
    pattern made from the URL is compiled anew for each recipient (each link is theirs), which
    was a seventh of a broadcast's send CPU, and no regex cache holds thousands of them."""
    at = html.find(escaped_url)
    while at != -1:
        # Indexes only, no slices: a hostile template repeating the URL costs no copies.
        i = at
        if i and html[i - 1] in "\"'":
            i -= 1
        while i and html[i - 1].isspace():
            i -= 1
        if i and html[i - 1] == "=":
            i -= 1
            while i and html[i - 1].isspace():
                i -= 1
            if i >= 4 and html.startswith("href", i - 4):
                return True
        at = html.find(escaped_url, at + 1)
    return False
