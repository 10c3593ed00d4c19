"""Repositories over the platform table, one module per aggregate. Each module documents its
item layout at the top, builds its own items (the module-level functions, which other
repositories compose into one transaction), and turns failed conditions into domain errors.
Repositories take and return domain models, never raw items."""
