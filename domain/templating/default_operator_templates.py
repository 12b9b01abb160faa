"""Herald's own emails to the people who run it (locale "en"): an invitation to a tenant's team
and a password reset. Each carries its link (invite_url, reset_url), which the delivery adds
for the address it sends to (domain.operators.operator_link). Sent by email; the SMS and in-app
wordings exist because every event has one for every channel."""

from domain.operators import INVITATION_EVENT, PASSWORD_RESET_EVENT

OPERATOR_TEMPLATES = {
    INVITATION_EVENT: {
        "email": {
            "subject": "{{ inviter_name }} invited you to {{ team_name }} on Herald",
            "html_body": "<h1>You're invited to {{ team_name }}</h1>\n"
            "<p>{{ inviter_name }} invited you to run notifications for {{ team_name }} on Herald, as {{ 'an' if role in ('owner', 'editor') else 'a' }} {{ role }}.</p>\n"
            '<p><a class="button" href="{{ invite_url }}">Accept the invitation</a></p>\n'
            '<p class="muted">Or open this link: {{ invite_url }}<br>It works once, for {{ expires_in }}. '
            "If you did not expect it, ignore this email.</p>\n",
        },
        "sms": {
            "body": "{{ inviter_name }} invited you to {{ team_name }} on Herald: {{ invite_url }}",
        },
        "in_app": {
            "subject": "Invitation to {{ team_name }}",
            "body": "{{ inviter_name }} invited you to {{ team_name }} as {{ role }}.",
            "action_url": "{{ invite_url|default('') }}",
        },
    },
    PASSWORD_RESET_EVENT: {
        "email": {
            "subject": "Reset your Herald password for {{ team_name }}",
            "html_body": "<h1>Reset your password</h1>\n"
            "<p>Hi {{ recipient_name }}, someone (we hope you) asked to reset your password for {{ team_name }} on Herald.</p>\n"
            '<p><a class="button" href="{{ reset_url }}">Choose a new password</a></p>\n'
            '<p class="muted">Or open this link: {{ reset_url }}<br>It works once, for {{ expires_in }}. '
            "If you did not ask, ignore this email: your password stays as it is.</p>\n",
        },
        "sms": {
            "body": "Reset your Herald password for {{ team_name }}: {{ reset_url }}",
        },
        "in_app": {
            "subject": "Password reset",
            "body": "A password reset was asked for your account on {{ team_name }}.",
            "action_url": "{{ reset_url|default('') }}",
        },
    },
}
