"""Times in answers: seconds to the millisecond.

Durations and positions come from arithmetic on sample counts (``73.13329166666665``); past the
millisecond the digits are noise a client would show or compare. Inputs keep their precision: only
what is written out is rounded (``Seconds`` in response models, :func:`to_millisecond` elsewhere).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import PlainSerializer


def to_millisecond(seconds: float) -> float:
    return round(seconds, 3)


Seconds = Annotated[float, PlainSerializer(to_millisecond, return_type=float)]
