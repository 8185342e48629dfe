from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from drafts.views import workspace
from studio.views import healthz
from studio.views_provider import provider_status
from studio.workspaces.members import members
from studio.workspaces.views import dashboard, home

urlpatterns = [
    path("", home, name="home"),
    path("w/<int:pk>/", workspace, name="workspace"),
    path("w/<int:pk>/dashboard/", dashboard, name="dashboard"),
    path("w/<int:pk>/members/", members, name="members"),
    path("", include("drafts.urls")),
    path("", include("prompts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("healthz", login_not_required(healthz), name="healthz"),
    path("provider/", provider_status, name="provider_status"),
    path("", include("studio.api.urls")),
    path("api/ai/", include("studio.api.api_urls")),
    path("", include("studio.audit.urls")),
    path("", include("studio.assistant.urls")),
]

# A clear page for a refused request (too large, too many fields), not Django's one line.
handler400 = "studio.views.bad_request"
