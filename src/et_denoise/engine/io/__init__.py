"""Image input and output: TIFF (tifffile) and MRC (mrcfile) files.

:func:`read_image` turns a file, or a folder of 2-D TIFF slices, into an
:class:`ImageData` with the voxel size in ångström; :func:`open_image_lazily`
opens one without reading its pixels (volumes larger than memory); :func:`write_image`
writes an array back, copying voxel size, origin and header details from the
input.  Every problem with a file is raised as :class:`engine.errors.ImageError`
with a message that names the file and says what is wrong.
"""

from et_denoise.engine.io.checks import SlabStream
from et_denoise.engine.io.files import SUPPORTED_EXTENSIONS, open_image_lazily, read_image, write_image
from et_denoise.engine.io.image_data import ImageData, MrcHeaderInfo
from et_denoise.engine.io.lazy import LazyImage

__all__ = ["SUPPORTED_EXTENSIONS", "ImageData", "LazyImage", "MrcHeaderInfo", "SlabStream", "open_image_lazily",
           "read_image", "write_image"]
