"""Push devices: their kinds, and one device as a send sees it."""

from dataclasses import dataclass
from enum import StrEnum


class DeviceKind(StrEnum):
    WEBPUSH = "webpush"  # a browser's Push API subscription (JSON: endpoint, keys p256dh, auth)
    FCM = "fcm"  # a Firebase Cloud Messaging registration token
    APNS = "apns"  # an Apple Push Notification service device token (hex)


@dataclass(frozen=True)
class PushDevice:
    """One registered, active device of a recipient: `token` is the FCM or APNs token, or the
    Web Push subscription as JSON."""

    id: str
    kind: str  # a DeviceKind value
    token: str
