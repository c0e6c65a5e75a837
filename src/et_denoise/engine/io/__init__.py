"""Image input and output: TIFF (tifffile) and MRC (mrcfile) files.

:func:`read_image` turns a file, or a folder of 2-D TIFF slices, into an
:class:`ImageData` with the voxel size in ångström; :func:`write_image`
writes an array back, copying voxel size, origin and header details from the
input.  Every problem with a file is raised as :class:`engine.errors.ImageError`
with a message that names the file and says what is wrong.
"""

from et_denoise.engine.io.files import SUPPORTED_EXTENSIONS, read_image, write_image
from et_denoise.engine.io.image_data import ImageData, MrcHeaderInfo

__all__ = ["SUPPORTED_EXTENSIONS", "ImageData", "MrcHeaderInfo", "read_image", "write_image"]
