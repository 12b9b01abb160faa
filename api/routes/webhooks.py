"""Provider status webhooks: no API key; the provider's signature is the credential.

A missing or wrong signature is a 403 and changes nothing. An event about a message Herald
does not know is acknowledged (200), so the provider does not redeliver it forever.
"""

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError
from api.strict_input import json_problem
from api.webhook_signatures import (
    NotConfigured,
    mailgun_signature_valid,
    sendgrid_signature_valid,
    twilio_signature_valid,
    vonage_signature_valid,
)
from domain.provider_events import (
    MalformedEvent,
    ProviderEvent,
    from_mailgun,
    from_sendgrid,
    from_ses,
    from_twilio,
    from_vonage,
)
from domain.sns import NOTIFICATION, sns_message
from services.ses_events import SnsTrust, receive_ses_message, verify_sns_message
from services.tracking import TrackingSummary, record_provider_events

router = APIRouter(
    prefix="/v1/webhooks",
    tags=["webhooks"],
    responses={
        400: {"description": "The events cannot be read (`malformed_event`)."},
        403: {
            "description": "The signature is missing or wrong (`invalid_signature`); SES: the "
            "SNS topic is not accepted (`unknown_topic`), or a SubscribeURL is not on an SNS "
            "host (`untrusted_url`)."
        },
        503: {
            "description": "The provider's webhook secret is not configured (`not_configured`), "
            "Temporal could not be reached (`temporal_unavailable`), or SNS could not be "
            "(`unavailable`)."
        },
    },
)

SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


def _forbidden(what: str) -> ApiError:
    return ApiError(403, "invalid_signature", f"{what}: the webhook signature is missing or wrong")


@router.post("/twilio/status", response_model=TrackingSummary)
async def receive_twilio_status(
    request: Request, settings: SettingsDep, session: SessionDep, temporal: TemporalDep
) -> TrackingSummary:
    """Twilio's status callback for an SMS (MessageSid, MessageStatus, ErrorCode, ...)."""
    if settings.twilio_auth_token is None:
        raise ApiError(503, "not_configured", "twilio webhooks need TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature")
    # Twilio signs the URL it was given, which is ours as the public sees it.
    url = settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    form = dict(
        parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    )
    token = settings.twilio_auth_token.get_secret_value()
    if not signature or not twilio_signature_valid(token, url, form, signature):
        raise _forbidden("X-Twilio-Signature")
    try:
        event = from_twilio(form)
    except MalformedEvent as exc:
        raise ApiError(400, "malformed_event", str(exc)) from None
    return await record_provider_events(session, temporal, [event])


@router.post("/sendgrid/events", response_model=TrackingSummary)
async def receive_sendgrid_events(
    request: Request, settings: SettingsDep, session: SessionDep, temporal: TemporalDep
) -> TrackingSummary:
    """A batch of SendGrid Event Webhook events, signed (Signed Event Webhook)."""
    if not settings.sendgrid_webhook_public_key:
        raise ApiError(503, "not_configured", "sendgrid webhooks need SENDGRID_WEBHOOK_PUBLIC_KEY")
    signature = request.headers.get(SENDGRID_SIGNATURE)
    timestamp = request.headers.get(SENDGRID_TIMESTAMP)
    if not (signature and timestamp):
        raise _forbidden(SENDGRID_SIGNATURE)
    body = await request.body()
    try:
        valid = sendgrid_signature_valid(
            settings.sendgrid_webhook_public_key, body, signature, timestamp
        )
    except NotConfigured as exc:
        raise ApiError(503, "not_configured", str(exc)) from None
    if not valid:
        raise _forbidden(SENDGRID_SIGNATURE)
    try:
        batch = _json_document(body)
        if not isinstance(batch, list):
            raise MalformedEvent("the body must be a JSON array of events")
        events = [from_sendgrid(item) for item in batch]
    except MalformedEvent as exc:
        raise ApiError(400, "malformed_event", f"body: {exc}") from None
    return await record_provider_events(session, temporal, events)


@router.post("/mailgun", response_model=TrackingSummary)
async def receive_mailgun_event(
    request: Request, settings: SettingsDep, session: SessionDep, temporal: TemporalDep
) -> TrackingSummary:
    """One Mailgun webhook event (JSON: its signature block and event-data), signed with the
    account's HTTP webhook signing key within the last 5 minutes."""
    if settings.mailgun_webhook_signing_key is None:
        raise ApiError(503, "not_configured", "mailgun webhooks need MAILGUN_WEBHOOK_SIGNING_KEY")
    try:
        body = json.loads(await request.body())
    except ValueError:  # no JSON, so no signature either
        body = None
    signed = body.get("signature") if isinstance(body, dict) else None
    timestamp, token, signature = (
        str(signed.get(name) or "") if isinstance(signed, dict) else ""
        for name in ("timestamp", "token", "signature")
    )
    key = settings.mailgun_webhook_signing_key.get_secret_value()
    if not mailgun_signature_valid(key, timestamp, token, signature, now=time.time()):
        raise _forbidden("signature")
    event = _event(from_mailgun, body)
    return await record_provider_events(session, temporal, [event])


@router.post("/vonage/status", response_model=TrackingSummary)
async def receive_vonage_receipt(
    request: Request, settings: SettingsDep, session: SessionDep, temporal: TemporalDep
) -> TrackingSummary:
    """A Vonage SMS delivery receipt POSTed as a form or as JSON, signed (signed webhooks)."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            posted = json.loads(body)
        except ValueError:
            posted = None
        if not isinstance(posted, dict):
            raise ApiError(400, "malformed_event", "body: a JSON object of receipt parameters")
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in posted.items()}
    else:
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return await _vonage_receipt(params, settings, session, temporal)


@router.get("/vonage/status", response_model=TrackingSummary)
async def receive_vonage_receipt_by_get(
    request: Request, settings: SettingsDep, session: SessionDep, temporal: TemporalDep
) -> TrackingSummary:
    """A Vonage SMS delivery receipt as a GET (the method Vonage uses unless told to POST):
    its parameters in the query string."""
    return await _vonage_receipt(dict(request.query_params), settings, session, temporal)


async def _vonage_receipt(
    params: dict[str, str], settings: SettingsDep, session: SessionDep, temporal: TemporalDep
) -> TrackingSummary:
    if settings.vonage_signature_secret is None:
        raise ApiError(503, "not_configured", "vonage receipts need VONAGE_SIGNATURE_SECRET")
    if not vonage_signature_valid(
        settings.vonage_signature_secret.get_secret_value(),
        settings.vonage_signature_method,
        params,
        now=time.time(),
    ):
        raise _forbidden("sig")
    event = _event(from_vonage, params)
    return await record_provider_events(session, temporal, [event])


def _event(parse: Callable[[Any], ProviderEvent], payload: Any) -> ProviderEvent:
    """The event a signed payload reports; 400 when it cannot be stored or read."""
    try:
        return parse(_storable(payload))
    except MalformedEvent as exc:
        raise ApiError(400, "malformed_event", str(exc)) from None


@router.post("/ses", response_model=TrackingSummary)
async def receive_ses_events(
    request: Request, settings: SettingsDep, session: SessionDep, temporal: TemporalDep
) -> TrackingSummary:
    """SES events (a configuration set's event destination: an SNS topic) as SNS posts them to
    an HTTPS subscription, one a message, signed by SNS (services/ses_events.py checks it).
    Confirms the subscription when SNS asks (SubscriptionConfirmation).

    Only from the topics of SES_SNS_TOPIC_ARNS: a signature proves a message came from SNS, not
    from whose topic, and anyone can make one."""
    if not settings.ses_sns_topic_arns.strip():
        raise ApiError(503, "not_configured", "ses events need SES_SNS_TOPIC_ARNS")
    try:
        message = sns_message(_json_document(await request.body()))
    except MalformedEvent as exc:
        # SNS signs inside the body: what is no SNS message cannot be verified.
        raise ApiError(403, "invalid_signature", f"body: not a signed SNS message: {exc}") from None
    trust = SnsTrust.from_settings(settings)
    await verify_sns_message(message, trust)
    try:  # signed by SNS, so a message that SES event cannot be read from is a 400
        event = (
            from_ses(_json_document(message.message), message.message_id)
            if message.type == NOTIFICATION
            else None
        )
    except MalformedEvent as exc:
        raise ApiError(400, "malformed_event", f"body: {exc}") from None
    return await receive_ses_message(session, temporal, trust, message, event)


def _json_document(text: bytes | str) -> Any:
    """JSON parsed here, not by FastAPI. MalformedEvent when it is not JSON or holds what
    cannot be stored."""
    try:
        document = json.loads(text)
    except ValueError as exc:  # not JSON, or not UTF-8
        raise MalformedEvent(f"not JSON: {exc}") from None
    return _storable(document)


def _storable(document: Any) -> Any:
    """A document parsed here, not by FastAPI, checked as the app-wide check of JSON bodies
    would have; MalformedEvent when it holds what cannot be stored."""
    if found := json_problem(document):
        raise MalformedEvent(".".join(map(str, found[0])) + f" {found[1]}")
    return document
