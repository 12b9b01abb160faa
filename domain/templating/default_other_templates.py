"""Shipped payment, daily agenda and generic templates (locale "en").

Payment emails and SMS speak to the customer; in-app notifications to the
organizer. The daily agenda is for the organizer, in the organizer's zone.
"""

_SMS_SENDER = "{% if organization_name %}{{ organization_name }}: {% endif %}"

_PAYMENT_DETAILS = """<table role="presentation" class="details">
<tr><td class="label">Amount</td><td>{{ amount }} {{ currency }}</td></tr>
{% if payment_description %}<tr><td class="label">For</td><td>{{ payment_description }}</td></tr>{% endif %}
{% if payment_method %}<tr><td class="label">Method</td><td>{{ payment_method }}</td></tr>{% endif %}
<tr><td class="label">Reference</td><td>{{ payment_id }}</td></tr>
</table>
"""

PAYMENT_TEMPLATES = {
    "payment.completed": {
        "email": {
            "subject": "Payment received: {{ amount }} {{ currency }}",
            "html_body": "<h1>Thanks for your payment</h1>\n<p>Hi {{ customer_name }},</p>\n"
            "<p>We received your payment. Here is a summary:</p>\n"
            + _PAYMENT_DETAILS
            + '{% if receipt_url %}<p><a class="button" href="{{ receipt_url }}">'
            "View your receipt</a></p>{% endif %}\n",
        },
        "sms": {
            "body": _SMS_SENDER + "Payment of {{ amount }} {{ currency }} received. Thank you!"
            "{% if receipt_url %} Receipt: {{ receipt_url }}{% endif %}",
        },
        "in_app": {
            "subject": "Payment received",
            "body": "{{ customer_name }} paid {{ amount }} {{ currency }}"
            "{% if payment_description %} for {{ payment_description }}{% endif %}.",
            "action_url": "{{ receipt_url|default('') }}",
        },
    },
    "payment.failed": {
        "email": {
            "subject": "Payment failed: {{ amount }} {{ currency }}",
            "html_body": "<h1>Your payment didn't go through</h1>\n<p>Hi {{ customer_name }},</p>\n"
            "<p>We couldn't process your payment"
            "{% if failure_reason %}: {{ failure_reason }}{% else %}.{% endif %}</p>\n"
            + _PAYMENT_DETAILS
            + '{% if payment_url %}<p><a class="button" href="{{ payment_url }}">'
            "Try again</a></p>{% endif %}\n"
            '<p class="muted">You can use another card or payment method. '
            "Nothing has been charged.</p>\n",
        },
        "sms": {
            "body": _SMS_SENDER + "Your payment of {{ amount }} {{ currency }} failed."
            "{% if payment_url %} Try again: {{ payment_url }}{% endif %}",
        },
        "in_app": {
            "subject": "Payment failed",
            "body": "A payment of {{ amount }} {{ currency }} from {{ customer_name }} failed"
            "{% if failure_reason %}: {{ failure_reason }}{% else %}.{% endif %}",
            "action_url": "{{ payment_url|default('') }}",
        },
    },
    "payment.refunded": {
        "email": {
            "subject": "Refund issued: {{ refund_amount }} {{ currency }}",
            "html_body": "<h1>Your refund is on its way</h1>\n<p>Hi {{ customer_name }},</p>\n"
            "<p>We refunded {{ refund_amount }} {{ currency }}"
            "{% if payment_method %} to your {{ payment_method }}{% endif %}. "
            "It can take 5 to 10 business days to appear on your statement.</p>\n"
            + _PAYMENT_DETAILS
            + '{% if receipt_url %}<p><a class="button" href="{{ receipt_url }}">'
            "View the receipt</a></p>{% endif %}\n",
        },
        "sms": {
            "body": _SMS_SENDER + "We refunded {{ refund_amount }} {{ currency }}. "
            "It can take 5-10 business days to show.",
        },
        "in_app": {
            "subject": "Refund issued",
            "body": "{{ customer_name }} was refunded {{ refund_amount }} {{ currency }}.",
            "action_url": "{{ receipt_url|default('') }}",
        },
    },
}

_BOOKINGS_WORD = "booking{{ '' if bookings|length == 1 else 's' }}"

AGENDA_TEMPLATES = {
    "daily_agenda": {
        "email": {
            "subject": "Your agenda for {{ agenda_date }}: {{ bookings|length }} " + _BOOKINGS_WORD,
            "html_body": "<h1>Your agenda for {{ agenda_date }}</h1>\n"
            "<p>Hi {{ organizer_name }}, you have {{ bookings|length }} "
            + _BOOKINGS_WORD
            + '.</p>\n{% if bookings %}<table role="presentation" class="details">\n'
            '{% for booking in bookings %}<tr><td class="label">{{ booking.start_time }} - '
            "{{ booking.end_time }}</td><td>{{ booking.event_name }} with {{ booking.invitee_name }}"
            '{% if booking.meeting_link %}<br><a href="{{ booking.meeting_link }}">Join</a>'
            "{% endif %}</td></tr>\n{% endfor %}</table>\n"
            "{% else %}<p>Nothing is booked. Enjoy the free time!</p>{% endif %}\n"
            '{% if agenda_url %}<p><a class="button" href="{{ agenda_url }}">'
            "Open your schedule</a></p>{% endif %}\n",
        },
        "sms": {
            "body": "{{ agenda_date }}: {{ bookings|length }} " + _BOOKINGS_WORD + "."
            "{% if bookings %} First: {{ bookings[0].start_time }} {{ bookings[0].event_name }}"
            " with {{ bookings[0].invitee_name }}.{% endif %}",
        },
        "in_app": {
            "subject": "Agenda for {{ agenda_date }}",
            "body": "You have {{ bookings|length }} " + _BOOKINGS_WORD + " on {{ agenda_date }}.",
            "action_url": "{{ agenda_url|default('') }}",
        },
    },
}

# For event keys Herald has no template for: shows the context's title and message.
GENERIC_TEMPLATE = {
    "email": {
        "subject": "{{ title }}",
        "html_body": "<h1>{{ title }}</h1>\n<p>{{ message }}</p>\n"
        "{% if action_url %}<p><a class=\"button\" href=\"{{ action_url }}\">Open</a></p>"
        "{% endif %}\n",
    },
    "sms": {"body": "{{ title }}{% if message %}: {{ message }}{% endif %}"
            "{% if action_url %} {{ action_url }}{% endif %}"},
    "in_app": {"subject": "{{ title }}", "body": "{{ message }}",
               "action_url": "{{ action_url|default('') }}"},
}  # fmt: skip
GENERIC_FALLBACKS = {"title": "Notification", "message": ""}

# For a notification that brings its own wording (a `message`, and a `subject` or `title`)
# to an event the tenant has no template for: that wording, as written. Unlike the generic
# template, an SMS is the message alone, as Herald sent it before templates existed.
OWN_WORDING_TEMPLATE = {
    "email": {
        "subject": "{{ subject or title }}",
        "html_body": "<h1>{{ subject or title }}</h1>\n<p>{{ message }}</p>\n"
        "{% if action_url %}<p><a class=\"button\" href=\"{{ action_url }}\">Open</a></p>"
        "{% endif %}\n",
    },
    "sms": {"body": "{{ message }}{% if action_url %} {{ action_url }}{% endif %}"},
    "in_app": {"subject": "{{ subject or title }}", "body": "{{ message }}",
               "action_url": "{{ action_url|default('') }}"},
}  # fmt: skip
