"""Herald's API as methods, shared by `Herald` (results) and `AsyncHerald` (coroutines)."""

from herald_client.binding import deferred, operation
from herald_client.operations import (
    broadcasts,
    events,
    notifications,
    recipients,
    templates,
    topics,
)


class Operations:
    """Strict methods return the result or raise a typed error (herald_client.errors) after
    the retries of the client's RetryPolicy. `notify` and `notify_event` never raise: they
    keep the request in the local outbox and return at once."""

    # Notifications
    send = operation(notifications.send_notification)
    notify = deferred(notifications.send_notification)
    get_notification = operation(notifications.get_notification)
    cancel_notification = operation(notifications.cancel_notification)
    list_deliveries = operation(notifications.list_deliveries)

    # Booking and payment events (envelopes: herald_client.events)
    send_event = operation(events.send_event)
    notify_event = deferred(events.send_event)

    # Recipients, preferences, inbox tokens
    put_recipient = operation(recipients.put_recipient)
    get_recipient = operation(recipients.get_recipient)
    patch_recipient = operation(recipients.patch_recipient)
    get_preferences = operation(recipients.get_preferences)
    put_preferences = operation(recipients.put_preferences)
    patch_preferences = operation(recipients.patch_preferences)
    create_recipient_token = operation(recipients.create_recipient_token)

    # Templates
    preview_template = operation(templates.preview_template)
    send_template_test = operation(templates.send_template_test)

    # Broadcasts and topics
    create_broadcast = operation(broadcasts.create_broadcast)
    notify_broadcast = deferred(broadcasts.create_broadcast)
    get_broadcast = operation(broadcasts.get_broadcast)
    list_broadcasts = operation(broadcasts.list_broadcasts)
    pause_broadcast = operation(broadcasts.pause_broadcast)
    resume_broadcast = operation(broadcasts.resume_broadcast)
    cancel_broadcast = operation(broadcasts.cancel_broadcast)
    subscribe = operation(topics.subscribe)
    unsubscribe = operation(topics.unsubscribe)
    list_topics = operation(topics.list_topics)
    list_topic_subscribers = operation(topics.list_topic_subscribers)
    list_recipient_topics = operation(topics.list_recipient_topics)
    delete_topic = operation(topics.delete_topic)
