"""Write use cases of the catalog domain (see the modules)."""
