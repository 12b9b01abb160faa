import pytest

from domain.templating import resolve_locale


@pytest.mark.parametrize(
    ("requested", "available", "tenant_default", "expected"),
    [
        ("pt-BR", {"en", "pt", "pt-BR"}, "en", "pt-BR"),
        ("pt-BR", {"en", "pt"}, "en", "pt"),
        ("pt-BR", {"en", "de"}, "en", "en"),
        ("pt_br", {"en", "pt-BR"}, "en", "pt-BR"),
        ("PT-br", {"en", "pt_BR"}, "en", "pt_BR"),
        ("fr-CA", {"en", "de"}, "de-AT", "de"),
        ("fr", {"de"}, "en", None),
        (None, {"en", "de"}, "de", "de"),
        ("", {"en"}, "en", "en"),
    ],
)
def test_resolve_locale(requested, available, tenant_default, expected):
    assert resolve_locale(requested, available, tenant_default) == expected
