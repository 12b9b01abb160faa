"""RenderMemo: a broadcast chunk's recipients of the same content rendered once, each with
their own unsubscribe link, and exactly what rendering each of them would have written."""

import uuid

import pytest

from activities.content import RENDERER
from activities.render_memo import RenderMemo
from domain.templating import DEFAULT_EMAIL_LAYOUT, RenderedEmail, TemplateSource
from domain.types import Channel


def source(**fields) -> TemplateSource:
    return TemplateSource(
        version_id=str(uuid.uuid4()), name="news", event_key="product.news", channel=Channel.EMAIL,
        **fields,
    )  # fmt: skip


def render(memo: RenderMemo | None, template: TemplateSource, values: dict) -> RenderedEmail:
    """An email rendered by the memo (None: by RENDERER itself)."""
    rendered = (memo.render if memo else RENDERER.render)(template, values, DEFAULT_EMAIL_LAYOUT)
    assert isinstance(rendered, RenderedEmail)
    return rendered


NEWS = source(subject="Spring sale", html_body="<p>All is 20% off, {{ shop }}.</p>")


def variables(i: int, **more) -> dict:
    link = f"https://herald.example/v1/unsubscribe/token-{i}.sig{i}"
    return {"shop": "Acme", "recipient_email": f"r{i}@example.com", "unsubscribe_url": link, **more}


@pytest.fixture
def renders(monkeypatch) -> list:
    """Every render RENDERER makes (the memo's included)."""
    made: list = []
    render = RENDERER.render

    def counted(*args, **kwargs):
        made.append(args)
        return render(*args, **kwargs)

    monkeypatch.setattr(RENDERER, "render", counted)
    return made


def test_the_same_content_is_rendered_once_with_each_recipients_link(renders):
    memo = RenderMemo()
    expected = [render(None, NEWS, variables(i)) for i in range(50)]
    renders.clear()

    got = [render(memo, NEWS, variables(i)) for i in range(50)]

    assert got == expected
    assert all(variables(i)["unsubscribe_url"] in got[i].html for i in range(50))
    assert len(renders) == 3  # the first as it is; the second both ways; none after


def test_a_recipient_of_their_own_content_is_rendered_once(renders):
    personal = source(subject="Hi {{ recipient_name }}", html_body="<p>News for you.</p>")
    memo = RenderMemo()
    names = ["Ada", "Grace", "Edsger"]

    got = [render(memo, personal, variables(i, recipient_name=n)) for i, n in enumerate(names)]

    assert [r.subject for r in got] == ["Hi Ada", "Hi Grace", "Hi Edsger"]
    assert len(renders) == 3


def test_a_template_that_changes_the_link_is_rendered_for_each(renders):
    shouting = source(subject="News", html_body="<p>{{ unsubscribe_url | upper }}</p>")
    memo = RenderMemo()
    expected = [render(None, shouting, variables(i)) for i in range(5)]

    got = [render(memo, shouting, variables(i)) for i in range(5)]

    assert got == expected
    assert all(variables(i)["unsubscribe_url"].upper() in got[i].html for i in range(5))
