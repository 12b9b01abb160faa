"""The dashboard's pages, in the order its navigation lists them (issue 14).

Adding a page: write its router in web/routes/ (a GET on the page's `path` that renders with
web.templating.render(..., page="<key>")) and list it in web/routes/__init__.py ROUTERS. Until a
router serves a page's path, the dashboard serves a "not built yet" placeholder there
(web/routes/placeholders.py), so the navigation never leads nowhere."""

from dataclasses import dataclass

from config.settings import Settings

PREFIX = "/dashboard"


@dataclass(frozen=True)
class Page:
    key: str  # names the page: the navigation marks it current by this key
    label: str
    path: str
    summary: str  # what it shows, for its placeholder until it is built
    dev_only: bool = False  # only with the embedded development stack


PAGES = (
    Page(
        "overview",
        "Overview",
        PREFIX,
        "Today's sent, delivered, failed and deferred; failures needing attention; recent "
        "activity; health at a glance.",
    ),
    Page(
        "templates",
        "Templates",
        f"{PREFIX}/templates",
        "Templates by event key and channel: create and edit with a variable helper, live "
        "preview, SMS counter, test send and version history.",
    ),
    Page(
        "history",
        "History",
        f"{PREFIX}/history",
        "The delivery log with filters and search, each delivery's timeline, and resend.",
    ),
    Page(
        "send",
        "Send",
        f"{PREFIX}/send",
        "Send a notification by hand: event or template, recipient, context, preview, now or "
        "at a time.",
    ),
    Page(
        "recipients",
        "Recipients",
        f"{PREFIX}/recipients",
        "Recipients: contact details, deliveries, preferences and do-not-disturb with a preview "
        "of the blocked hours.",
    ),
    Page(
        "scheduled",
        "Scheduled",
        f"{PREFIX}/scheduled",
        "Upcoming notifications and booking reminders, with cancel and reschedule.",
    ),
    Page(
        "analytics",
        "Analytics",
        f"{PREFIX}/analytics",
        "Delivery, bounce, open and click rates over time per channel, provider and template, "
        "with CSV export.",
    ),
    Page(
        "health",
        "Health",
        f"{PREFIX}/health",
        "Database, Temporal and workers, each provider's circuit and failure rate, alerts, "
        "backlog.",
    ),
    Page(
        "settings",
        "Settings",
        f"{PREFIX}/settings",
        "Delivery policy, booking settings, sender addresses, API keys, team members and roles.",
    ),
    Page(
        "team",
        "Team",
        f"{PREFIX}/team",
        "The team's members and their roles; owners invite, change roles and remove.",
    ),
    Page(
        "audit",
        "Audit log",
        f"{PREFIX}/audit",
        "Who changed what, newest first.",
    ),
    Page(
        "dev_mailbox",
        "Dev mailbox",
        f"{PREFIX}/dev-mailbox",
        "The development mail catcher's messages: HTML, text and headers.",
        dev_only=True,
    ),
)
PAGES_BY_KEY = {page.key: page for page in PAGES}


def dev_mailbox_enabled(settings: Settings) -> bool:
    """The Dev mailbox exists only with the development stack's catcher, never in production."""
    return bool(settings.dev_mailbox_path) and settings.herald_env != "production"


def navigation(settings: Settings) -> list[Page]:
    """The pages this deployment has, in order."""
    return [page for page in PAGES if not page.dev_only or dev_mailbox_enabled(settings)]
