import pytest

from domain.templating import sms_segments


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "units"),
    [
        ("", "GSM-7", 0, 0),
        ("Hello", "GSM-7", 1, 5),
        ("a" * 160, "GSM-7", 1, 160),
        ("a" * 161, "GSM-7", 2, 161),
        ("a" * 306, "GSM-7", 2, 306),
        ("a" * 307, "GSM-7", 3, 307),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", "GSM-7", 1, 42),
        ("{}[]~\\^|€", "GSM-7", 1, 18),  # extension table: two septets each
        ("€" * 80, "GSM-7", 1, 160),
        ("€" * 81, "GSM-7", 2, 162),
        ("ç", "UCS-2", 1, 1),  # lowercase c-cedilla is not in the GSM basic set
        ("Olá, tudo bem? Ação", "UCS-2", 1, 19),
        ("a" * 70 + "ç", "UCS-2", 2, 71),
        ("a" * 69 + "ç", "UCS-2", 1, 70),
        ("ç" * 134, "UCS-2", 2, 134),
        ("ç" * 135, "UCS-2", 3, 135),
        ("😀", "UCS-2", 1, 2),  # outside the BMP: a surrogate pair
        ("😀" * 35, "UCS-2", 1, 70),
        ("😀" * 36, "UCS-2", 2, 72),
        ("10:00\u202fAM", "UCS-2", 1, 8),  # CLDR's narrow space is not GSM
    ],
)
def test_sms_segments(text, encoding, segments, units):
    info = sms_segments(text)

    assert (info.encoding, info.segments, info.units) == (encoding, segments, units)
    assert info.characters == len(text)


def test_escape_pair_is_not_split_across_parts():
    # 152 plain septets then '€' (2 septets) does not fit the 153-septet part.
    text = "a" * 152 + "€" + "a" * 153
    assert sms_segments(text).units == 307
    assert sms_segments(text).segments == 3


def test_surrogate_pair_is_not_split_across_parts():
    text = "ç" * 66 + "😀" + "ç" * 67  # the emoji would straddle the first part's end
    assert sms_segments(text).segments == 3
