from django.db import connection
from django.db.utils import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def livez(request):
    """The process answers. No database: this is also the benchmark's ceiling."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def healthz(request):
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse(
            {"status": "unavailable", "database": "down"}, status=503, headers={"Retry-After": "30"}
        )
    return JsonResponse({"status": "ok", "database": "ok"})
