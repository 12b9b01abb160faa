"""Request and response bodies of /v1/templates, one per purpose."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from api.schemas.common import EventKey, ExternalId, InputModel, Locale, Phone
from api.schemas.pages import Page
from domain.types import Channel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Placeholder = Annotated[str, StringConstraints(max_length=100)]


class TemplateContent(InputModel):
    """What a save replaces. Each field present in a PUT body is set (null clears it)."""

    name: Name
    locale: Locale = "en"
    subject: str | None = Field(
        None, description="Email subject; push, in-app, chat and webhook title."
    )
    html_body: str | None = Field(None, description="Email HTML (autoescaped).")
    text_body: str | None = Field(
        None, description="Email text part; derived from the HTML when omitted."
    )
    body: str | None = Field(
        None, description="SMS, push, in-app, chat (the platform's markdown) and webhook text."
    )
    action_url: str | None = Field(
        None, description="In-app, push, chat and webhook link (a template too)."
    )
    icon: str | None = Field(
        None,
        description="Push icon URL (a template too): it must render to an https URL or nothing.",
    )
    required_placeholders: list[Placeholder] = Field(
        default_factory=list, description="Variables a send must provide, or it fails."
    )
    fallbacks: dict[Placeholder, str] = Field(
        default_factory=dict, description="Shown for a missing optional variable, by name."
    )
    is_active: StrictBool = True
    is_default: StrictBool = Field(
        False, description="The one used first for its owner, event, channel and locale."
    )


class TemplateCreate(TemplateContent):
    event_key: EventKey = Field(examples=["booking.confirmation"])
    channel: Channel
    owner_id: ExternalId | None = Field(
        None,
        description="An organizer's id: their templates win over the tenant's for "
        "notifications whose context has this `owner_id`.",
    )


class TemplateUpdate(TemplateContent):
    """Every field optional: what is sent replaces the current value, as a new version."""

    # Pydantic lets a subclass redeclare a field (here optional, for a partial PUT) and keeps
    # its place in the schema; mypy reads each redeclaration as an incompatible override of
    # the base class's attribute, hence the ignores. Nothing takes a TemplateUpdate as a
    # TemplateContent.
    name: Name | None = None  # type: ignore[assignment]
    locale: Locale | None = None  # type: ignore[assignment]
    required_placeholders: list[Placeholder] | None = None  # type: ignore[assignment]
    fallbacks: dict[Placeholder, str] | None = None  # type: ignore[assignment]
    is_active: StrictBool | None = None  # type: ignore[assignment]
    is_default: StrictBool | None = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _no_null_for_required(self) -> "TemplateUpdate":
        for name in (
            "name",
            "locale",
            "required_placeholders",
            "fallbacks",
            "is_active",
            "is_default",
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class _ContentPublic(BaseModel):
    """What a template and each of its versions show alike."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    locale: str
    subject: str | None
    html_body: str | None
    text_body: str | None
    body: str | None
    action_url: str | None
    icon: str | None
    required_placeholders: list[str]
    fallbacks: dict[str, str]
    version: int
    created_at: datetime


class TemplatePublic(_ContentPublic):
    owner_id: str | None
    event_key: str
    channel: str
    is_active: bool
    is_default: bool
    current_version_id: uuid.UUID
    updated_at: datetime


class TemplatesPublic(Page[TemplatePublic]):
    pass


class TemplateVersionPublic(_ContentPublic):
    pass


class TemplateVersionsPublic(Page[TemplateVersionPublic]):
    pass


class PreviewRequest(InputModel):
    context: dict[str, Any] = Field(
        default_factory=dict, description="Merged over the event's sample data."
    )


class SmsPreview(BaseModel):
    encoding: str = Field(description="GSM-7 or UCS-2")
    segments: int
    characters: int


class PreviewResult(BaseModel):
    channel: str
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    action_url: str | None = None
    icon: str | None = Field(default=None, description="A push template's icon URL.")
    sms: SmsPreview | None = None
    warnings: list[str] = Field(description="E.g. variables shown as their fallback.")


class TestSendRequest(InputModel):
    email: EmailStr | None = None
    phone: Phone | None = None
    context: dict[str, Any] = Field(
        default_factory=dict, description="Merged over the event's sample data."
    )

    @model_validator(mode="after")
    def _one_address(self) -> "TestSendRequest":
        if (self.email is None) == (self.phone is None):
            raise ValueError("give either an email or a phone to send the test to")
        return self


class LayoutPut(InputModel):
    html: str = Field(description="HTML with exactly one {{ content }} where the email body goes.")


class LayoutPublic(BaseModel):
    html: str
    version_id: str
    is_herald_default: bool
    updated_at: datetime | None
