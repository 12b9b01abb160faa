"""bench/load.py's plan and its per-key verdicts: a burst it passes is one that met the goals."""

from collections import Counter
from types import SimpleNamespace

from bench.load import CONFLICTS, KEYS, REPEATS, Request, address_of, check, plan
from temporal_clients.notifications import notification_workflow_id

TENANT = "00000000-0000-4000-8000-000000000001"


def test_plan_sends_each_key_once_then_repeats_and_conflicts_shuffled() -> None:
    requests = plan("r")
    assert len(requests) == KEYS + REPEATS + CONFLICTS
    assert len({r.key for r in requests}) == KEYS
    variants = Counter(r.variant for r in requests)
    assert variants == {"original": KEYS + REPEATS, "conflicting": CONFLICTS}
    assert all(r.address == address_of(r.key, r.variant) for r in requests)
    assert [r.key for r in requests[:KEYS]] != [f"load-r-{i}" for i in range(KEYS)]
    assert [(r.key, r.variant) for r in plan("r")] == [(r.key, r.variant) for r in requests]


def answered(key: str, variant: str, status: int, id: str = "n1", replayed: bool = False):
    answer = {"id": id, "replayed": replayed} if status == 202 else {}
    return Request(key, variant, address_of(key, variant), status, 0.1, answer)


def verdict(requests, emails, rows=None, workflows=1):
    """check() over one key "k" whose accepted notification is n1 (row and workflow as given)."""
    accepted = next((r for r in requests if r.status == 202), requests[0])
    return check(
        requests,
        rows if rows is not None else {"k": [("n1", accepted.address)]},
        {notification_workflow_id(TENANT, "k"): [SimpleNamespace()] * workflows},
        [(address, "<m@x>", 1.0) for address in emails],
        TENANT,
    )


def test_a_key_done_right_has_no_problems() -> None:
    requests = [
        answered("k", "conflicting", 202),
        answered("k", "original", 409),
        answered("k", "conflicting", 202, replayed=True),
    ]
    assert verdict(requests, [address_of("k", "conflicting")]) == {}


def test_each_way_a_key_can_go_wrong_is_named() -> None:
    first = answered("k", "original", 202)
    mailed = address_of("k", "original")
    assert "not_one_email_to_the_accepted_address" in verdict([first], [mailed, mailed])
    assert "not_one_email_to_the_accepted_address" in verdict([first], [])
    assert "email_to_the_refused_address" in verdict(
        [first, answered("k", "conflicting", 409)], [mailed, address_of("k", "conflicting")]
    )
    assert "not_one_workflow" in verdict([first], [mailed], workflows=2)
    assert "not_one_row_with_the_accepted_address" in verdict(
        [first], [mailed], rows={"k": [("n1", mailed), ("n2", mailed)]}
    )
    assert "409_for_the_accepted_body" in verdict([first, answered("k", "original", 409)], [mailed])
    assert "other_status" in verdict([first, answered("k", "original", 503)], [mailed])
    assert "not_one_first_acceptance" in verdict([first, answered("k", "original", 202)], [mailed])
    assert "not_one_accepted_body_and_id" in verdict(
        [first, answered("k", "conflicting", 202, id="n2")], [mailed]
    )
    second_id = answered("k", "original", 202, id="n2", replayed=True)
    assert "not_one_accepted_body_and_id" in verdict([first, second_id], [mailed])
