"""Comparing results: image-quality metrics, the metrics table and the comparison figure."""
