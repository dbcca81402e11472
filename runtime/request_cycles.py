"""Free a finished request's objects by reference counting, not by the cyclic collector.

Django and DRF tie every request's objects into reference cycles: the messages storage and ``request.user`` (a
closure) point back at the request, DRF's view holds its ``Request`` and ``Response`` and both hold the view (their
``parser_context`` and ``renderer_context``), and a view's ``head`` is its own bound ``get``. Some 85 objects per
call would wait for the collector, which would then run every eight requests or so, holding the GIL, so stopping
every thread of the worker. With those links cut, a request's objects go as soon as its response is sent, and the
collector runs far less often (docs/performance.md has the figures).

The links are cut after every other middleware has finished with the response, and only for a response whose
content is already made: a streaming response may still read the request (its user, say) while it is sent. Cycles
remain where the volume is not: an error answer's exception (its traceback holds the frames that hold it), a DRF
serializer and an admin form (their fields point back at them).
"""

# What Django's middleware and views set on a request that refers back to it, directly or through a closure.
REQUEST_LINKS = ("_messages", "user", "auser")


class RequestCyclesMiddleware:
    """First in ``MIDDLEWARE``, so that it sees the response last."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.streaming:
            release(request, response)
        return response


def release(request, response) -> None:
    for name in REQUEST_LINKS:
        request.__dict__.pop(name, None)
    context = getattr(response, "renderer_context", None)  # a rendered DRF response
    if context:
        view = context.get("view")
        if view is not None:
            view.__dict__.clear()  # its request, response, and ``head`` (a bound method of its own)
        api_request = context.get("request")
        if api_request is not None:
            api_request.parser_context = None
        response.renderer_context = None
