"""How many SMS segments a text costs (GSM 03.38 / UCS-2)."""

from dataclasses import dataclass

# GSM 03.38 default alphabet: one septet each. (0x1B, the escape code, is left out.)
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: sent as escape + character, so two septets each.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153  # septets; a concatenated part loses 7 to its header
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    characters: int  # code points, as a person counts them
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)

    @property
    def capacity(self) -> int:
        """The units this many segments carry (at most: a pair is never split across two
        parts), so `units` of `capacity` says how far the text is from one more segment."""
        single, part = (
            (GSM7_SINGLE, GSM7_PART) if self.encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
        )
        return single if self.segments <= 1 else part * self.segments


def sms_segments(text: str) -> SmsInfo:
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        encoding, single, part = "GSM-7", GSM7_SINGLE, GSM7_PART
        costs = [2 if char in GSM7_EXTENSION else 1 for char in text]
    else:
        encoding, single, part = "UCS-2", UCS2_SINGLE, UCS2_PART
        costs = [2 if ord(char) > 0xFFFF else 1 for char in text]  # surrogate pairs
    units = sum(costs)
    if units <= single:
        segments = 1 if units else 0
    else:
        segments = _count_parts(costs, part)
    return SmsInfo(encoding=encoding, segments=segments, characters=len(text), units=units)


def _count_parts(costs: list[int], part_size: int) -> int:
    # An escape pair or a surrogate pair is never split across two parts, so a part
    # may end one unit short: pack greedily instead of dividing.
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part_size:
            parts, used = parts + 1, 0
        used += cost
    return parts
