"""Herald's shipped email layout: used when a tenant has not set its own."""

from hashlib import sha256

from domain.templating.model import EmailLayout

# Tables for structure (Outlook ignores max-width on <div>s); the <style> rules are
# inlined at compile time and the @media rule stays in <head> for phones.
DEFAULT_LAYOUT_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ organization_name|default('') }}</title>
<style>
body { margin: 0; padding: 0; background-color: #f4f5f7; }
.wrapper { width: 100%; background-color: #f4f5f7; }
.container { width: 100%; max-width: 600px; background-color: #ffffff; border-radius: 8px; }
.header { padding: 24px 32px 0 32px; font-family: Helvetica, Arial, sans-serif; font-size: 14px; font-weight: bold; color: #52606d; }
.content { padding: 24px 32px; font-family: Helvetica, Arial, sans-serif; font-size: 16px; line-height: 1.5; color: #1f2933; }
.footer { padding: 16px 32px 24px 32px; font-family: Helvetica, Arial, sans-serif; font-size: 12px; line-height: 1.5; color: #7b8794; text-align: center; }
h1 { margin: 0 0 16px 0; font-size: 22px; line-height: 1.3; color: #1f2933; }
p { margin: 0 0 16px 0; }
a { color: #2563eb; }
.details { width: 100%; margin: 0 0 16px 0; border-collapse: collapse; }
.details td { padding: 6px 0; font-size: 15px; vertical-align: top; }
.details td.label { width: 30%; padding-right: 12px; color: #52606d; }
a.button { display: inline-block; padding: 12px 20px; border-radius: 6px; background-color: #2563eb; color: #ffffff; font-weight: bold; text-decoration: none; }
.muted { font-size: 14px; color: #52606d; }
.footer a { color: #7b8794; }
@media only screen and (max-width: 620px) {
  .container { border-radius: 0 !important; }
  .header, .content, .footer { padding-left: 16px !important; padding-right: 16px !important; }
}
</style>
</head>
<body>
<table role="presentation" class="wrapper" width="100%" cellpadding="0" cellspacing="0">
<tr><td align="center" style="padding: 24px 0;">
<table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0">
{% if organization_name %}<tr><td class="header">{{ organization_name }}</td></tr>{% endif %}
<tr><td class="content">
{{ content }}
</td></tr>
<tr><td class="footer">
{% if organization_name %}<p>Sent by {{ organization_name }}.</p>{% endif %}
{% if unsubscribe_url %}<p><a href="{{ unsubscribe_url }}">Unsubscribe from these emails</a></p>{% endif %}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"""

DEFAULT_EMAIL_LAYOUT = EmailLayout(
    version_id="herald-default-layout:" + sha256(DEFAULT_LAYOUT_HTML.encode()).hexdigest()[:16],
    html=DEFAULT_LAYOUT_HTML,
)
