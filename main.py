"""ET Denoise: command line and GUI entry point (replaced by the full CLI)."""
