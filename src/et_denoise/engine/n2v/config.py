"""Training parameters of Noise2Void / StructN2V, described once for the GUI and the command line."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.n2v.masks import mask_for_dims, parse_mask
from et_denoise.engine.params import MethodParams, param

MANIPULATORS = ("uniform_withCP", "uniform_withoutCP", "normal_withoutCP", "normal_additive",
                "normal_fitted", "identity", "mean", "median")
LR_SCHEDULES = ("cosine", "plateau")
#: n2v's replacement names in plain words.
MANIPULATOR_NAMES = {
    "uniform_withCP": "random neighbour or itself",
    "uniform_withoutCP": "random neighbour",
    "normal_withoutCP": "nearby neighbour (Gaussian)",
    "normal_additive": "itself plus noise",
    "normal_fitted": "Gaussian fitted to neighbours",
    "identity": "unchanged",
    "mean": "mean of neighbours",
    "median": "median of neighbours (N2V2)",
}
# n2v 0.3.3 evaluates `structN2Vmask or default` in these, which fails for an array mask.
MANIPULATORS_WITHOUT_MASK = ("uniform_withoutCP", "mean", "median")


@dataclass(frozen=True)
class N2VParams(MethodParams):
    """Parameters of one Noise2Void / StructN2V training run (Krull et al. 2019; Broaddus et al. 2020)."""

    mode: str = param("2d", label="Mode", choices=("2d", "3d"),
                      help="2d trains on single planes (a volume is used plane by plane); "
                      "3d trains on cubes of a volume and sees across planes.")
    mask: str = param("horizontal:11", label="Blind-spot mask",
                      help="Neighbours hidden with each blind spot: none (plain N2V), horizontal:L, vertical:L, "
                      "cross:L, square:L, or a file of 0/1 rows. Tomogram noise is correlated along X: "
                      "use horizontal with L a bit longer than the correlation.")
    patch_size: int = param(64, label="Patch size", minimum=16, maximum=512, step=16,
                            help="Side of the square (or cubic in 3d) training patches, in pixels; "
                            "a multiple of 2^depth.")
    epochs: int = param(10, label="Epochs", minimum=1, maximum=1000,
                        help="Passes of training; the weights with the lowest validation loss are kept.")
    minutes: float = param(5.0, label="Time budget (min)", minimum=0.0, maximum=10000.0, step=1.0,
                           minimum_text="none (by epochs)",
                           help="Train for at most this many minutes (0: by epochs only): training stops "
                           "after the batch that reaches the budget, and the cosine schedule ends then; "
                           "the epochs remain an upper limit. On 2 CPU cores 3 minutes gave 9-13 dB on "
                           "the sample.")
    steps_per_epoch: int = param(0, label="Steps per epoch", minimum=0, maximum=100000, minimum_text="auto",
                                 help="Batches per epoch; 0 chooses one pass over the (augmented) training "
                                 "patches, between 10 and 400.")
    batch_size: int = param(16, label="Batch size", minimum=1, maximum=512, help="Patches per training step.")
    learning_rate: float = param(4e-4, label="Learning rate", minimum=1e-6, maximum=0.1, step=1e-4,
                                 help="Adam's initial step size (see the schedule).")
    lr_schedule: str = param("cosine", label="Learning-rate schedule", choices=LR_SCHEDULES,
                             help="cosine lowers the learning rate smoothly to zero at the last planned step, "
                             "which gives the best network for a given number of epochs; plateau (n2v's) halves "
                             "it after 10 epochs without a lower validation loss.")
    unet_depth: int = param(2, label="U-Net depth", minimum=1, maximum=5,
                            help="Resolution levels of the network: deeper sees larger structures, trains slower.")
    unet_filters: int = param(0, label="First-layer filters", minimum=0, maximum=256, step=4,
                              minimum_text="auto (from the time budget)",
                              help="Convolution filters of the first level (doubled at each level). Auto "
                              "chooses 8, 16 or 32: the widest network that gets enough batches in the time "
                              "budget on this machine (32 when training by epochs).")
    unet_kernel: int = param(3, label="Kernel size", minimum=3, maximum=7, step=2,
                             help="Width of the convolutions (odd; 3-D mode always uses 3). 3 trains and "
                             "predicts about twice as fast as n2v's 5: on the sample it reaches the same "
                             "PSNR in half the time, 5 is better after the same number of steps.")
    blur_pool: bool = param(False, label="Blur pooling (N2V2)",
                            help="Pool with a blur before taking the maximum (N2V2, Höck et al. 2022): fewer "
                            "checkerboard artefacts; 2d mode only.")
    top_skip: bool = param(True, label="Top skip connection",
                           help="Pass the full-resolution features straight to the last layers. N2V2 (Höck et "
                           "al. 2022) leaves this out, so the output cannot copy the input's pixel-level noise.")
    masked_fraction: float = param(1.0, label="Masked pixels (%)", minimum=0.05, maximum=10.0, step=0.05,
                                   help="Percentage of pixels (voxels in 3d) of each patch used as blind spots "
                                   "(n2v_perc_pix; n2v's default is 0.198). More blind spots give every step "
                                   "more to learn from: on the sample, 1 % trains StructN2V to over 2 dB more "
                                   "than 0.198 % in the same steps.")
    neighborhood_radius: int = param(5, label="Neighbourhood radius", minimum=1, maximum=20,
                                     help="Radius of the window the blind-spot replacement value is drawn from.")
    manipulator: str = param("uniform_withCP", label="Replacement", choices=MANIPULATORS,
                             choice_labels=MANIPULATOR_NAMES,
                             help="How a blind spot's value is replaced (n2v_manipulator).")
    validation_fraction: float = param(0.1, label="Validation fraction", minimum=0.01, maximum=0.5, step=0.01,
                                       help="Share of patches held out to measure the validation loss.")
    augment: bool = param(True, label="Augment",
                          help="Rotate and flip patches, using only the transforms that leave the mask "
                          "unchanged (a horizontal mask is not rotated by 90 degrees).")
    test_time_flips: bool = param(True, label="Test-time flips",
                                  help="Denoise the image also flipped along Y, X and both, each flip the "
                                  "mask shares, and average the results flipped back: on the sample "
                                  "0.6-1.0 dB better, at 4 times the prediction time.")
    seed: int = param(0, label="Random seed", minimum=0, maximum=2**31 - 1,
                      help="Seeds patch selection, masking and weights: the same seed repeats a run.")

    @property
    def ndim(self) -> int:
        """Spatial dimensions of the network: 2 or 3."""
        return 3 if self.mode == "3d" else 2

    @property
    def kernel_size(self) -> int:
        """The convolutions' width: ``unet_kernel`` in 2-D; 3 in 3-D, n2v's default there."""
        return self.unet_kernel if self.ndim == 2 else 3

    @property
    def blind_spot_box(self) -> int:
        """Side of the square (cube in 3d) that holds one blind spot: masked_fraction % of the pixels.

        n2v takes the side as ``sqrt(100 / perc_pix)`` in 3-D too, which would hide
        only (perc_pix / 100)^1.5 of the voxels; the backend passes it
        ``100 / blind_spot_box**2`` so that the percentage holds in both modes.
        """
        return max(1, round((100 / self.masked_fraction) ** (1 / self.ndim)))

    @property
    def blind_spot_mask(self) -> np.ndarray | None:
        """The parsed mask with :attr:`ndim` axes, or None for plain N2V."""
        return mask_for_dims(parse_mask(self.mask), self.ndim)

    def validate(self) -> None:
        mask = self.blind_spot_mask
        if self.unet_kernel % 2 == 0:
            raise ParameterError(f"Kernel size must be odd, got {self.unet_kernel}")
        if self.blur_pool and self.ndim == 3:
            raise ParameterError("Blur pooling works in 2d mode only (n2v has no 3-D blur pool)")
        if self.patch_size % 2**self.unet_depth:
            raise ParameterError(f"Patch size must be a multiple of {2**self.unet_depth} "
                                 f"for U-Net depth {self.unet_depth}, got {self.patch_size}")
        if mask is not None:
            if any(side > self.patch_size for side in mask.shape):
                raise ParameterError(f"the mask {mask.shape} is larger than the patch ({self.patch_size} pixels)")
            if self.manipulator in MANIPULATORS_WITHOUT_MASK:
                raise ParameterError(f"replacement {self.manipulator} works only with mask 'none' in n2v; "
                                     "choose uniform_withCP or normal_withoutCP")
        # A box larger than the patch can leave a batch without any blind spot,
        # and its loss is then 0/0 = NaN.
        if self.blind_spot_box > self.patch_size:
            least = 100 / (self.patch_size + 0.5) ** self.ndim
            raise ParameterError(f"Masked pixels (%) is too small for {self.patch_size}-pixel patches: "
                                 f"use more than {least:.2g}")
