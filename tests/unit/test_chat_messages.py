"""What each chat platform is sent for a message: Slack's mrkdwn and blocks, Teams' Adaptive
Card, Discord's content and embed."""

import pytest

from channels.base import ChatMessage
from channels.discord import MAX_CONTENT_CHARS, discord_payload
from channels.slack import MAX_SECTION_CHARS, mrkdwn, slack_payload
from channels.teams import teams_card
from domain.chat import shown_address

MESSAGE = ChatMessage(
    to="U024BE7LH",
    text="We received **42.00 EUR**. See [your receipt](https://example.com/r?id=1&x=2).",
    title="Payment received",
    action_url="https://example.com/payments/1",
)


def test_mrkdwn_converts_bold_links_strikes_and_headings():
    assert mrkdwn("**bold** and __bold__") == "*bold* and *bold*"
    assert mrkdwn("[the receipt](https://example.com/r)") == "<https://example.com/r|the receipt>"
    assert mrkdwn("~~old~~ price") == "~old~ price"
    assert mrkdwn("# Payment\n## Details ##\nbody") == "*Payment*\n*Details*\nbody"
    assert mrkdwn("_italic_ and `code`") == "_italic_ and `code`"  # the same in both


def test_mrkdwn_escapes_what_slack_would_read_as_its_own_markup():
    # A rendered value cannot ping the channel, nor write a link of its own.
    assert mrkdwn("Hi <!channel> & <https://evil.example|bank>") == (
        "Hi &lt;!channel&gt; &amp; &lt;https://evil.example|bank&gt;"
    )
    # A markdown link's label keeps no `|` (it would end the label early).
    assert mrkdwn("[a|b](https://example.com)") == "<https://example.com|a/b>"


def test_slack_payload_has_a_header_a_section_and_a_button():
    payload = slack_payload(MESSAGE)
    header, section, actions = payload["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "Payment received"}}
    assert section["text"] == {
        "type": "mrkdwn",
        "text": "We received *42.00 EUR*. See <https://example.com/r?id=1&amp;x=2|your receipt>.",
    }
    [button] = actions["elements"]
    assert (button["type"], button["url"]) == ("button", "https://example.com/payments/1")
    # The preview (and clients without blocks) shows the title and the text.
    assert payload["text"].startswith("*Payment received*\nWe received *42.00 EUR*")


def test_slack_payload_without_title_or_link_is_one_section_and_long_text_is_cut():
    payload = slack_payload(ChatMessage(to="C1", text="x" * (MAX_SECTION_CHARS + 10)))
    [section] = payload["blocks"]
    assert section["type"] == "section"
    assert len(section["text"]["text"]) == MAX_SECTION_CHARS
    assert section["text"]["text"].endswith("…")
    assert payload["text"] == "x" * (MAX_SECTION_CHARS + 10)  # the fallback text is whole


def test_slack_payload_uses_the_messages_own_blocks():
    blocks = [{"type": "divider"}]
    assert slack_payload(ChatMessage(to="C1", text="t", blocks=blocks))["blocks"] == blocks


def test_teams_card_is_an_adaptive_card_with_title_text_and_open_url():
    card_message = teams_card(MESSAGE)
    assert card_message["type"] == "message"
    [attachment] = card_message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    title, text = card["body"]
    assert (title["type"], title["text"], title["weight"]) == (
        "TextBlock",
        "Payment received",
        "Bolder",
    )
    assert text["text"] == MESSAGE.text  # Teams renders this markdown subset itself
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open", "url": "https://example.com/payments/1"}
    ]


def test_teams_card_without_title_or_link():
    card = teams_card(ChatMessage(to="https://x", text="Hello"))["attachments"][0]["content"]
    assert card["body"] == [{"type": "TextBlock", "text": "Hello", "wrap": True}]
    assert "actions" not in card


def test_discord_payload_has_the_text_and_an_embed_linking_the_title():
    payload = discord_payload(MESSAGE)
    assert payload["content"] == MESSAGE.text
    assert payload["embeds"] == [
        {"title": "Payment received", "url": "https://example.com/payments/1"}
    ]
    assert payload["allowed_mentions"] == {"parse": []}  # @everyone in a value pings no one


def test_discord_payload_without_title_carries_the_link_in_the_content_and_is_cut():
    payload = discord_payload(
        ChatMessage(to="https://x", text="y" * 3000, action_url="https://example.com/a")
    )
    assert "embeds" not in payload
    assert len(payload["content"]) == MAX_CONTENT_CHARS
    assert payload["content"].endswith("…\nhttps://example.com/a")  # the text cut, the link kept
    short = discord_payload(ChatMessage(to="https://x", text="Hi", action_url="https://e.com/a"))
    assert short["content"] == "Hi\nhttps://e.com/a"


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("discord:https://discord.com/api/webhooks/1/secret", "discord:https://discord.com/…"),
        (
            "teams:https://x.webhook.office.com/webhookb2/a/b",
            "teams:https://x.webhook.office.com/…",
        ),
        ("slack:https://hooks.slack.com/services/T/B/secret", "slack:https://hooks.slack.com/…"),
        ("slack:U024BE7LH", "slack:U024BE7LH"),  # an id is no secret
        ("ada@example.com", "ada@example.com"),
        (None, None),
    ],
)
def test_a_chat_webhook_url_is_shown_without_its_secret_path(address, shown):
    assert shown_address(address) == shown
    assert shown_address(shown) == shown  # showing twice changes nothing
