"""One module per kind of view. Each page has a JSON twin that returns the same data."""
