"""Developer tools of the ocitest checkout (not shipped)."""
