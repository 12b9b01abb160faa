import pytest

from domain.templating import TemplateRenderer, TemplateSource


@pytest.fixture
def renderer():
    return TemplateRenderer()


@pytest.fixture
def make_source():
    """A TemplateSource with a fresh version id per call unless one is given."""
    counter = iter(range(1_000_000))

    def make(channel="sms", event_key="booking.confirmation", version_id=None, **fields):
        return TemplateSource(
            version_id=version_id or f"test-{next(counter)}",
            name="test",
            event_key=event_key,
            channel=channel,
            **fields,
        )

    return make
