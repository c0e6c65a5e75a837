"""The Compare tab: linked grid of results, line profile, metrics table and figure export."""
