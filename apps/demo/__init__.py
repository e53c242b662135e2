"""Demo data for ``./dev demo`` and the load benchmarks, in one place.

The top layer, beside ``integrations``: it may import every app (it builds its rows through
their services and models); no app imports it. ``seed_demo`` runs the ``STEPS`` of its modules
(``accounts``, ``catalog``, ``pricing``, ``orders``) in that order; ``mail`` is the demo's
e-mail backend (one file and one line per message).
"""
