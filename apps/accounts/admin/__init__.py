"""The back office of the accounts domain: customers, users, API keys, the auth log.

Every write with a business rule goes through ``apps.accounts.services``; the admin only
collects input, checks who may do what, and reports the services' refusals as messages.
"""

from apps.accounts.admin import (  # noqa: F401
    api_keys,
    auth_events,
    customers,
    login,
    notifications,
    third_party,
    two_factor,
    users,
)
