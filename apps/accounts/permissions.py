"""Who may call what. Which rows a caller may touch is decided by the company scoping."""

from __future__ import annotations

from rest_framework.permissions import BasePermission


class IsDealerUser(BasePermission):
    """An authenticated person who belongs to a dealer company."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and getattr(user, "customer_id", None) is not None
        )


def dealer_permission(*perms: str, read_perms: tuple[str, ...] = ()):
    """A permission class: a dealer user holding every one of ``perms`` (Django permissions
    granted through the role groups). Safe methods need only ``read_perms``."""

    class HasDealerPermission(IsDealerUser):
        required = perms
        required_for_read = read_perms

        def has_permission(self, request, view) -> bool:
            if not super().has_permission(request, view):
                return False
            needed = (
                self.required_for_read
                if request.method in ("GET", "HEAD", "OPTIONS")
                else self.required
            )
            return all(request.user.has_perm(p) for p in needed)

    HasDealerPermission.__name__ = "HasDealerPermission_" + "_".join(
        p.split(".")[-1] for p in perms
    )
    return HasDealerPermission


class HasApiKeyScope(BasePermission):
    """The API key holds the scope the view asks for (``required_scopes`` per method)."""

    message = "This API key lacks the scope this call needs."
    code = "insufficient_scope"

    def has_permission(self, request, view) -> bool:
        api_key = getattr(request.user, "api_key", None)
        if api_key is None:
            return False
        scopes = getattr(view, "required_scopes", {})
        if request.method == "OPTIONS":  # the description, for a key that may use the route
            return any(api_key.has_scope(scope) for scope in set(scopes.values()))
        # HEAD is a GET without its body: the GET's scope (it answered 403 to every key)
        method = "GET" if request.method == "HEAD" else request.method
        needed = scopes.get(method, scopes.get("*"))
        if needed is None:
            # a method the view does not serve is DRF's 405 (it answers after this check);
            # a method it serves must name its scope: none means nobody
            return request.method.lower() not in view.http_method_names or not hasattr(
                view, request.method.lower()
            )
        return api_key.has_scope(needed)
