from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import connection
from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET


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
