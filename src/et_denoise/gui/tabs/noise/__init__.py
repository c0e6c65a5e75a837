"""The Noise analysis tab: autocorrelation of a region or residual, the suggested mask, mask sweep."""
