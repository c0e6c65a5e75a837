"""The quiet box the noise analysis starts from lies where the slice has no structure."""

import numpy as np
import pytest

from et_denoise.engine.analysis.quiet_region import quietest_box
from et_denoise.engine.errors import ImageError, ParameterError


def test_the_box_avoids_the_structure_and_stays_inside_the_plane():
    rng = np.random.default_rng(3)
    plane = rng.normal(0.0, 1.0, (300, 400))
    yy, xx = np.mgrid[:300, :400]
    plane[:, :250] += 4.0 * np.sin(xx[:, :250] / 9.0) * np.cos(yy[:, :250] / 13.0)  # structure on the left
    box = quietest_box(plane, 64)
    assert (box.y1 - box.y0, box.x1 - box.x0) == (64, 64)
    assert box.x0 >= 250 and box.x1 <= 400 and 0 <= box.y0 and box.y1 <= 300


def test_a_box_larger_than_the_plane_is_the_whole_plane():
    box = quietest_box(np.zeros((20, 30)), 64)
    assert (box.y0, box.y1, box.x0, box.x1) == (0, 20, 0, 20)


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ImageError, match="2-D plane"):
        quietest_box(np.zeros((4, 20, 20)), 8)
    with pytest.raises(ParameterError, match="at least 1 pixel"):
        quietest_box(np.zeros((20, 20)), 0)
