"""Providers are declared by their modules and built from the declarations alone."""

from typing import Any

import pytest
from pydantic import SecretStr

from channels.base import DeviceGoneError, PermanentSendError, TransientSendError
from channels.declaration import ErrorKind
from channels.http_status import error_for_code
from channels.registry import declarations, declared_send_rates
from config.providers import build_provider, build_providers, describe_providers
from config.settings import Settings
from domain.send_rate import parse_send_rates
from domain.types import Channel


def test_every_declared_setting_is_a_setting_and_secrets_are_secret():
    fields = Settings.model_fields
    for declaration in declarations().values():
        assert declaration.channel in set(Channel), declaration.name
        for setting in declaration.settings:
            assert setting.field in fields, f"{declaration.name}: {setting.field}"
            annotation = str(fields[setting.field].annotation)
            assert ("SecretStr" in annotation) == setting.secret, (
                f"{declaration.name}: {setting.field} is {'not ' if setting.secret else ''}"
                "a SecretStr: a secret must be one (never logged), and only a secret"
            )


def test_the_registry_builds_the_configured_providers_in_failover_order():
    settings = Settings(
        email_providers="sendgrid,smtp",
        sendgrid_api_key=SecretStr("SG.test"),
        sms_providers="outbox",
    )
    providers = build_providers(settings)
    assert list(providers.email) == ["sendgrid", "smtp"]
    assert list(providers.sms) == ["outbox"]
    assert providers.provider(Channel.EMAIL, None).name == "sendgrid"


def test_a_provider_missing_its_settings_names_them():
    with pytest.raises(ValueError, match="SENDGRID_API_KEY"):
        build_provider(Settings(), "sendgrid", "email")


def test_an_unknown_provider_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown email provider 'pigeon'.*smtp"):
        build_provider(Settings(), "pigeon", "email")


def test_health_describes_providers_from_their_declarations_without_secrets():
    settings = Settings(
        email_providers="sendgrid,smtp",
        sendgrid_api_key=SecretStr("SG.very-secret-key"),
    )
    described = describe_providers(settings)
    email = described["email"]
    assert email["failover"] == ["sendgrid", "smtp"]
    providers: list[dict[str, Any]] = email["providers"]  # type: ignore[assignment]
    assert [p["name"] for p in providers] == ["sendgrid", "smtp"]
    sendgrid = providers[0]
    assert sendgrid["settings"]["SENDGRID_API_KEY"] == "set"
    assert sendgrid["batching"] is True
    assert "SG.very-secret-key" not in repr(described)
    for channel in ("email", "sms", "push", "chat", "in_app"):
        assert channel in described


def test_declared_rates_apply_unless_configured_otherwise():
    declared = declared_send_rates()
    configured = declared | parse_send_rates("smtp=3")
    assert configured["smtp"].per_second == 3
    for name, rate in declared.items():
        assert rate.per_second == declarations()[name].rate_limit


@pytest.mark.parametrize(
    ("errors", "code", "status", "expected"),
    [
        ({"UNREGISTERED": ErrorKind.GONE}, "UNREGISTERED", 404, DeviceGoneError),
        ({"denied": ErrorKind.PROVIDER_REFUSED}, "denied", 200, PermanentSendError),
        ({}, "anything", 503, TransientSendError),
        ({}, "bad", 400, PermanentSendError),
        ({}, "unknown", None, TransientSendError),
    ],
)
def test_errors_map_by_the_declaration_then_by_http(errors, code, status, expected):
    err = error_for_code("p", errors, code, "detail", status=status, retry_after="7")
    assert type(err) is expected
    if isinstance(err, TransientSendError) and status is not None:
        assert err.retry_after == 7
    if errors.get(code) == ErrorKind.PROVIDER_REFUSED:
        assert isinstance(err, PermanentSendError) and err.provider_fault
