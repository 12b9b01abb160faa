"""A broadcast's page cut into parts written at once (domain.broadcasts.page_parts), and the
page's result put together from theirs (merged_page)."""

import itertools
import uuid
from datetime import UTC, datetime

import pytest

from domain.broadcasts import PageResult, merged_page, page_parts

IDS = sorted(uuid.uuid4() for _ in range(10))


@pytest.mark.parametrize("count", [1, 2, 3, 4, 9, 10])
@pytest.mark.parametrize("parts", [1, 2, 3, 4])
@pytest.mark.parametrize("after", [None, uuid.UUID(int=0)])
def test_parts_cover_the_page_once_in_order_and_nearly_evenly(count, parts, after):
    ids = IDS[:count]

    bounds = page_parts(after, ids, parts)

    assert 1 <= len(bounds) <= min(parts, count)
    assert bounds[0][0] == after and bounds[-1][1] == ids[-1]
    for (_a, through), (next_after, _t) in itertools.pairwise(bounds):
        assert next_after == through  # each starts where the one before ended
    members = [[i for i in ids if (a is None or i > a) and i <= through] for a, through in bounds]
    assert [i for m in members for i in m] == ids  # every id in exactly one part, in order
    sizes = [len(m) for m in members]
    assert max(sizes) - min(sizes) <= 1


def test_a_page_is_the_sum_of_its_parts():
    early, late = datetime(2026, 12, 1, 8, tzinfo=UTC), datetime(2026, 12, 1, 9, tzinfo=UTC)
    first = PageResult(IDS[4], 5, {"email": 3, "sms": 1}, late, suppressed=1, sent=2, total=10)
    second = PageResult(IDS[9], 4, {"email": 2}, early, deferred=2, failed=1, total=10)

    page = merged_page(IDS[9], [first, second])

    assert page == PageResult(
        IDS[9],
        9,
        {"email": 5, "sms": 1},
        early,
        suppressed=1,
        deferred=2,
        total=10,
        sent=2,
        failed=1,
    )


def test_a_part_that_found_the_broadcast_finished_ends_the_walk():
    written = PageResult(IDS[4], 5, {"email": 5}, sent=0, total=10)

    page = merged_page(IDS[9], [written, None])

    assert page.last_recipient_id is None
    assert page.written == 5 and page.pending == {"email": 5}  # what was written still counts
