"""NameBasedIds makes exactly the ids uuid.uuid5 makes: rows written before the change are
found again by the ids derived after it."""

import uuid

from hypothesis import given
from hypothesis import strategies as st

from domain.name_based_ids import NameBasedIds


@given(namespace=st.uuids(), name=st.text())
def test_the_id_is_uuid5s(namespace, name):
    made = NameBasedIds(namespace)(name)
    expected = uuid.uuid5(namespace, name)

    assert made == expected
    assert (str(made), made.bytes, hash(made)) == (str(expected), expected.bytes, hash(expected))
    assert (made.version, made.variant) == (5, uuid.RFC_4122)
    assert made.is_safe == expected.is_safe


def test_known_ids_are_unchanged():
    # the example in Python's documentation of the uuid module
    assert NameBasedIds(uuid.NAMESPACE_DNS)("python.org") == uuid.UUID(
        "886313e1-3b8a-5372-9b90-0c9aee199e5d"
    )
