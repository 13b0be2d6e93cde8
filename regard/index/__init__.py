"""Vector indexes derived from the store: an interface and the exact (BLAS) default."""
