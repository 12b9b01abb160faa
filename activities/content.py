"""What each channel says: rendered from the notification's event key and context."""

from dataclasses import dataclass

from db.deliveries import DeliveryJob


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str | None = None
    action_url: str | None = None
    template_version_id: str | None = None


def render_content(job: DeliveryJob) -> Content:
    context = job.notification.context or {}
    event_key = job.notification.event_key
    subject = str(context.get("subject") or context.get("title") or event_key.replace(".", " ").replace("_", " ").capitalize())
    text = str(context.get("message") or context.get("body") or subject)
    return Content(subject=subject, text=text, action_url=context.get("action_url"))
