"""Push devices: registering one (a Web Push subscription, an FCM or APNs token), and what the
API shows of one. The checks of each kind's token: domain/device_tokens.py."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from api.schemas.common import InputModel
from api.schemas.pages import Page
from domain import device_tokens
from domain.devices import DeviceKind

# Bounds that hold before any check reads a string (the checks say what is wrong within them).
_Key = Annotated[str, StringConstraints(max_length=200)]
_Token = Annotated[str, StringConstraints(max_length=device_tokens.MAX_FCM_TOKEN_CHARS)]


class WebPushKeys(InputModel):
    p256dh: Annotated[_Key, AfterValidator(device_tokens.check_p256dh)]
    auth: Annotated[_Key, AfterValidator(device_tokens.check_auth_secret)]


class WebPushSubscription(InputModel):
    """A browser's push subscription, as `PushSubscription.toJSON()` gives it."""

    endpoint: Annotated[
        str,
        StringConstraints(max_length=device_tokens.MAX_ENDPOINT_CHARS),
        AfterValidator(device_tokens.check_push_endpoint),
    ] = Field(examples=["https://fcm.googleapis.com/fcm/send/dpH5lCsTSSM:APA91bH..."])
    keys: WebPushKeys
    expiration_time: float | None = Field(
        default=None, alias="expirationTime", description="Accepted as browsers send it; unused."
    )


class DeviceRegistration(InputModel):
    """A device to register: `subscription` for kind `webpush`, `token` for `fcm` and `apns`."""

    kind: DeviceKind
    token: _Token | None = Field(
        default=None,
        validate_default=True,
        description="The FCM registration token, or the APNs device token (hex).",
    )
    subscription: WebPushSubscription | None = Field(
        default=None,
        validate_default=True,
        description="The browser's push subscription (kind webpush).",
    )
    label: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        default=None,
        description="A name for the device (`Chrome on a laptop`); left out, a device registered "
        "again keeps its label.",
    )

    # Each field's check knows the kind: fields are validated in order, `kind` first. A kind
    # that is not valid is refused on its own; the token is not checked against it.
    @field_validator("token")
    @classmethod
    def _token_of_kind(cls, token: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == DeviceKind.WEBPUSH and token is not None:
            raise ValueError("not for kind webpush: send the browser's `subscription`")
        if kind in (DeviceKind.FCM, DeviceKind.APNS) and token is None:
            raise ValueError(f"required for kind {kind}")
        if kind == DeviceKind.FCM and token is not None:
            return device_tokens.check_fcm_token(token)
        if kind == DeviceKind.APNS and token is not None:
            return device_tokens.check_apns_token(token)
        return token

    @field_validator("subscription")
    @classmethod
    def _subscription_of_kind(
        cls, subscription: WebPushSubscription | None, info: ValidationInfo
    ) -> WebPushSubscription | None:
        kind = info.data.get("kind")
        if kind == DeviceKind.WEBPUSH and subscription is None:
            raise ValueError("required for kind webpush")
        if kind in (DeviceKind.FCM, DeviceKind.APNS) and subscription is not None:
            raise ValueError(f"only for kind webpush; kind {kind} sends `token`")
        return subscription

    def stored_token(self) -> str:
        """The device's token as stored (its canonical form: domain/device_tokens.py)."""
        if self.subscription is not None:
            keys = self.subscription.keys
            return device_tokens.webpush_token(self.subscription.endpoint, keys.p256dh, keys.auth)
        assert self.token is not None  # the validators above: a token for every other kind
        return self.token


class DevicePublic(BaseModel):
    """A registered device; of its token, only enough to tell devices apart."""

    id: uuid.UUID
    kind: DeviceKind
    label: str | None
    active: bool
    last_seen: datetime
    created_at: datetime
    deactivated_at: datetime | None = Field(description="When it stopped being sent to.")
    deactivation_reason: str | None = Field(
        description="Why: the push service said it is gone, or newer devices replaced it."
    )
    endpoint_origin: str | None = Field(
        description="Kind webpush: the push service's origin (`https://fcm.googleapis.com`)."
    )
    token_ending: str | None = Field(
        description="Kinds fcm and apns: the token's last 6 characters."
    )


DevicePage = Page[DevicePublic]
