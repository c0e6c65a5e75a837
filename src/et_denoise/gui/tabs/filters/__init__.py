"""The classic-filter tabs (median, anisotropic diffusion, non-local means): one tab class serves them all."""
