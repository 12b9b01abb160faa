"""Shipped booking templates (locale "en").

Email and SMS go to either side of a booking (the context's `audience`, set by the booking
chain: "invitee" or "organizer"): each reads the other party's name and the times in its own
zone; without an audience, the invitee's view. In-app notifications appear in the organizer's
dashboard, so they show start_time, the moment in the organizer's zone.
"""

_WHEN_AND_WHERE = """<table role="presentation" class="details">
<tr><td class="label">What</td><td>{{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }}</td></tr>
<tr><td class="label">When</td><td>{{ start_time if audience == 'organizer' else start_time_invitee }} ({{ duration }})</td></tr>
{% if meeting_link %}<tr><td class="label">Where</td><td><a href="{{ meeting_link }}">{{ meeting_link }}</a>\
{% if meeting_id %}<br>Meeting ID: {{ meeting_id }}{% endif %}\
{% if meeting_password %}<br>Password: {{ meeting_password }}{% endif %}</td></tr>{% endif %}
</table>
{% if invitee_timezone %}<p class="muted">Times are shown in your time zone ({{ organizer_timezone if audience == 'organizer' else invitee_timezone }}).</p>{% endif %}
"""

_JOIN_BUTTON = """{% if meeting_link %}<p><a class="button" href="{{ meeting_link }}">Join the meeting</a></p>{% endif %}
"""

_MANAGE_LINKS = """{% if reschedule_url or cancel_url %}<p class="muted">Need to make a change?\
{% if reschedule_url %} <a href="{{ reschedule_url }}">Reschedule</a>{% endif %}\
{% if reschedule_url and cancel_url %} or{% endif %}\
{% if cancel_url %} <a href="{{ cancel_url }}">cancel</a>{% endif %}.</p>{% endif %}
"""

_SMS_SENDER = "{% if organization_name %}{{ organization_name }}: {% endif %}"
_SMS_MANAGE = "{% if booking_url %} Manage: {{ booking_url }}{% endif %}"

BOOKING_TEMPLATES = {
    "booking.confirmation": {
        "email": {
            "subject": "Confirmed: {{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }}",
            "html_body": "<h1>Your booking is confirmed</h1>\n<p>Hi {{ organizer_name if audience == 'organizer' else invitee_name }},</p>\n"
            "<p>You're all set. Here are the details:</p>\n"
            + _WHEN_AND_WHERE
            + _JOIN_BUTTON
            + _MANAGE_LINKS,
        },
        "sms": {
            "body": _SMS_SENDER
            + "{{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }} is confirmed for "
            "{{ start_time if audience == 'organizer' else start_time_invitee }}." + _SMS_MANAGE,
        },
        "in_app": {
            "subject": "New booking: {{ event_name }}",
            "body": "{{ invitee_name }} booked {{ event_name }} for {{ start_time }}.",
            "action_url": "{{ booking_url|default('') }}",
        },
    },
    "booking.reminder": {
        "email": {
            "subject": "Reminder: {{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }}",
            "html_body": "<h1>Your meeting is coming up</h1>\n<p>Hi {{ organizer_name if audience == 'organizer' else invitee_name }},</p>\n"
            "<p>This is a reminder of your upcoming meeting:</p>\n"
            + _WHEN_AND_WHERE
            + _JOIN_BUTTON
            + _MANAGE_LINKS,
        },
        "sms": {
            "body": _SMS_SENDER
            + "Reminder: {{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }} on "
            "{{ start_time if audience == 'organizer' else start_time_invitee }}.{% if meeting_link %} Join: {{ meeting_link }}{% endif %}",
        },
        "in_app": {
            "subject": "Upcoming: {{ event_name }}",
            "body": "{{ event_name }} with {{ invitee_name }} starts {{ start_time }}.",
            "action_url": "{{ booking_url|default('') }}",
        },
    },
    "booking.cancellation": {
        "email": {
            "subject": "Cancelled: {{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }}",
            "html_body": "<h1>Your booking was cancelled</h1>\n<p>Hi {{ organizer_name if audience == 'organizer' else invitee_name }},</p>\n"
            "<p>Your {{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }} on {{ start_time if audience == 'organizer' else start_time_invitee }} "
            "has been cancelled.</p>\n"
            "{% if cancellation_reason %}<p>Reason: {{ cancellation_reason }}</p>{% endif %}\n"
            '{% if reschedule_url %}<p><a class="button" href="{{ reschedule_url }}">'
            "Pick a new time</a></p>{% endif %}\n",
        },
        "sms": {
            "body": _SMS_SENDER
            + "Your {{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }} on "
            "{{ start_time if audience == 'organizer' else start_time_invitee }} was cancelled."
            "{% if reschedule_url %} New time: {{ reschedule_url }}{% endif %}",
        },
        "in_app": {
            "subject": "Booking cancelled: {{ event_name }}",
            "body": "{{ invitee_name }} cancelled {{ event_name }} on {{ start_time }}."
            "{% if cancellation_reason %} Reason: {{ cancellation_reason }}{% endif %}",
            "action_url": "{{ booking_url|default('') }}",
        },
    },
    "booking.rescheduled": {
        "email": {
            "subject": "Rescheduled: {{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }}",
            "html_body": "<h1>Your booking has a new time</h1>\n<p>Hi {{ organizer_name if audience == 'organizer' else invitee_name }},</p>\n"
            "<p>Your {{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }} has moved"
            "{% if previous_start_time_invitee %} from {{ previous_start_time if audience == 'organizer' else previous_start_time_invitee }}{% endif %}"
            ". The new details:</p>\n" + _WHEN_AND_WHERE + _JOIN_BUTTON + _MANAGE_LINKS,
        },
        "sms": {
            "body": _SMS_SENDER
            + "{{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }} moved to "
            "{{ start_time if audience == 'organizer' else start_time_invitee }}." + _SMS_MANAGE,
        },
        "in_app": {
            "subject": "Booking rescheduled: {{ event_name }}",
            "body": "{{ invitee_name }} moved {{ event_name }} to {{ start_time }}"
            "{% if previous_start_time %} (was {{ previous_start_time }}){% endif %}.",
            "action_url": "{{ booking_url|default('') }}",
        },
    },
    "booking.follow_up": {
        "email": {
            "subject": "Thanks for meeting with {{ invitee_name if audience == 'organizer' else organizer_name }}",
            "html_body": "<h1>Thanks for your time</h1>\n<p>Hi {{ organizer_name if audience == 'organizer' else invitee_name }},</p>\n"
            "<p>Thank you for attending {{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }} on "
            "{{ start_time if audience == 'organizer' else start_time_invitee }}. We hope it was useful.</p>\n"
            "{% if organizer_email %}<p>Questions? Write to {{ organizer_name }} at "
            '<a href="mailto:{{ organizer_email }}">{{ organizer_email }}</a>.</p>{% endif %}\n',
        },
        "sms": {
            "body": _SMS_SENDER
            + "Thanks for attending {{ event_name }} with {{ invitee_name if audience == 'organizer' else organizer_name }}."
            "{% if organizer_email %} Questions? {{ organizer_email }}{% endif %}",
        },
        "in_app": {
            "subject": "Meeting finished: {{ event_name }}",
            "body": "Your {{ event_name }} with {{ invitee_name }} has ended. "
            "A follow-up was sent to them.",
            "action_url": "{{ booking_url|default('') }}",
        },
    },
}
