"""Regions given as text (--region, the noise analysis's box): what is read, and what a wrong one says."""

import pytest

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.region import Region, parse_region


@pytest.mark.parametrize("text, shape, expected", [
    ("0:64,10:200", (256, 256), Region(0, 64, 10, 200)),
    (" 5 : 9 , : ", (20, 30), Region(5, 9, 0, 30)),
    ("2:4,0:16,0:8", (6, 16, 8), Region(0, 16, 0, 8, 2, 4)),
    ("0:16,0:8", (6, 16, 8), Region(0, 16, 0, 8)),
])
def test_parse_region(text, shape, expected):
    assert parse_region(text, shape) == expected


@pytest.mark.parametrize("text, shape, message", [
    ("0-64,0:64", (100, 100), "cannot read region"),
    ("0:64", (100, 100), "cannot read region"),
    ("0:64,a:b", (100, 100), "cannot read region"),
    ("0:64,0:101", (100, 100), "outside the image"),
    ("50:50,0:10", (100, 100), "empty"),
    ("0:1,0:64,0:64", (100, 100), "2-D"),
])
def test_parse_region_errors_say_what_is_wrong(text, shape, message):
    with pytest.raises(ParameterError, match=message):
        parse_region(text, shape)
