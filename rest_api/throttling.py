"""The DRF throttle of the API: each call of a principal on its rate limit, counted with gRPC's calls."""

from rest_framework.throttling import BaseThrottle

from oauth.principals import Principal
from oauth.throttling import principal_throttle


class PrincipalRateThrottle(BaseThrottle):
    """DRF's throttle over ``oauth.throttling.principal_throttle``, the limit gRPC's ``AuthInterceptor`` applies too.

    Over the limit it raises ``RateLimited`` rather than returning ``False``: the answer is then the 429 problem
    details with ``Retry-After`` that every ``DomainError`` gets (``rest_api.problems``), in the words gRPC uses.
    Anonymous requests (the OpenAPI document) are not counted.
    """

    def allow_request(self, request, view):
        if isinstance(request.user, Principal):
            principal_throttle(request.user).check()
        return True
