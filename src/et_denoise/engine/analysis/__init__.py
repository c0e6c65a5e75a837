"""Noise analysis: the noise level and its spatial correlation, the StructN2V mask it suggests, and self-supervised parameter tuning."""
