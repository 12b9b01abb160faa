from domain.fallback import FallbackRule, fallback_verdict

RULE = FallbackRule("email", "sms", "delivered", 30)


def test_a_failure_or_bounce_falls_back_at_once():
    assert fallback_verdict("failed", RULE) is True
    assert fallback_verdict("bounced", RULE) is True


def test_reaching_the_status_or_beyond_means_no_fallback():
    for status in ("delivered", "opened", "clicked"):
        assert fallback_verdict(status, RULE) is False
    assert fallback_verdict("delivered", FallbackRule("in_app", "email", "opened", 240)) is None


def test_only_sent_keeps_waiting():
    assert fallback_verdict("sent", RULE) is None


def test_channels_never_attempted_do_not_fall_back():
    for status in ("suppressed", "cancelled", "digested"):
        assert fallback_verdict(status, RULE) is False
