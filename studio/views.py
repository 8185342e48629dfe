import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.http import require_GET

from studio import busy


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponseBadRequest:
    """The 400 page; it says so when the body was over DATA_UPLOAD_MAX_MEMORY_SIZE (or had
    too many fields or files). Rendered without the request: a refused request may lack what
    the context processors expect."""
    too_large = isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent)
    context = {"too_large": too_large, "max_size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    return HttpResponseBadRequest(render_to_string("400.html", context))


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, except for a request that waited too long for the database
    (``studio.busy``): a 503 with Retry-After that says the studio is busy; an htmx request
    gets it as a toast, its form left as it was. Django calls this while handling the
    exception (in the thread it was re-raised in), hence ``sys.exception()``. Rendered
    without the request: a context processor would queue for the database again."""
    if not busy.database_busy(sys.exception()):
        response = defaults.server_error(request)
        response["Cache-Control"] = "no-store"  # as below: the database may be what failed
        return response
    busy.refused()
    context = {"retry_after": busy.RETRY_AFTER}
    if request.headers.get("HX-Request") == "true":  # HtmxMiddleware may not have run
        response = HttpResponse(render_to_string("errors/busy.html#busy-toast", context))
        response["HX-Retarget"] = "#toasts"
        response["HX-Reswap"] = "beforeend"
    else:
        response = HttpResponse(render_to_string("errors/busy.html", context))
    response.status_code = 503
    response["Retry-After"] = str(busy.RETRY_AFTER)
    # Kept by nobody; and set here, so that no middleware on the way out asks the database
    # who the user is (studio.middleware.PrivatePagesMiddleware) and waits its turn again.
    response["Cache-Control"] = "no-store"
    return response
