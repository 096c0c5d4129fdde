"""`gan-zoo generate`: images, style-mixing grids and interpolations from a trained checkpoint."""
