"""Fixtures shared by the benchmarks."""

import itertools

import pytest

from et_denoise.engine.n2v.masks import blind_spot_plane, mask_to_text


@pytest.fixture
def in_plane_mask(tmp_path):
    """A function giving the ``--mask`` value that trains a mask suggestion in 2-D.

    The suggestion's preset when it is 2-D and has one, ``"none"`` when its
    blind-spot plane hides no neighbour, otherwise a mask file (in the test's
    folder) with the plane of the blind spot of its mask.
    """
    numbers = itertools.count()

    def value(suggestion) -> str:
        mask = suggestion.mask
        if mask.ndim == 2 and suggestion.spec:
            return suggestion.spec
        plane = blind_spot_plane(mask)
        if plane.sum() == 1:
            return "none"
        path = tmp_path / f"in_plane_{next(numbers)}.txt"
        path.write_text(mask_to_text(plane))
        return str(path)

    return value
