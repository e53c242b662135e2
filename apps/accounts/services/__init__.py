"""Write use cases of the accounts domain, one function each (see the modules)."""
