"""A provider's send rate: a token bucket with a burst, reserving successive slots."""

import pytest

from domain.send_rate import SendRate, parse_send_rates


def test_a_burst_goes_at_once_then_sends_are_spaced_by_the_rate():
    rate = SendRate(per_second=10, burst=3)
    assert [rate.wait_for_slot(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    waits = [rate.wait_for_slot(0.0) for _ in range(3)]
    assert waits == pytest.approx([0.1, 0.2, 0.3])  # successive slots, reserved in turn


def test_the_bucket_refills_with_time_up_to_its_burst():
    rate = SendRate(per_second=2, burst=2)
    rate.wait_for_slot(0.0), rate.wait_for_slot(0.0)
    assert rate.wait_for_slot(0.5) == 0.0  # one slot back after half a second
    assert rate.wait_for_slot(0.5) == pytest.approx(0.5)
    assert [rate.wait_for_slot(100.0) for _ in range(2)] == [0.0, 0.0]  # never above the burst
    assert rate.wait_for_slot(100.0) > 0


def test_rates_are_read_from_the_setting_and_bad_ones_are_named():
    rates = parse_send_rates(" sendgrid=100, twilio=0.5 ")
    assert (rates["sendgrid"].per_second, rates["sendgrid"].burst) == (100, 100)
    assert (rates["twilio"].per_second, rates["twilio"].burst) == (0.5, 1.0)
    assert parse_send_rates("") == {}
    for bad in ("sendgrid", "sendgrid=fast", "=5", "twilio=0", "twilio=-1"):
        with pytest.raises(ValueError, match="PROVIDER_RATE_LIMITS"):
            parse_send_rates(bad)
