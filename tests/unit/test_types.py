from domain.types import event_category, subscription_category


def test_categories():
    assert event_category("booking.reminder") == "booking"
    assert event_category("daily_agenda") == "daily_agenda"


def test_a_digest_unsubscribes_from_the_category_it_collects():
    assert subscription_category("digest.ticket") == "ticket"
    assert subscription_category("payment.failed") == "payment"
