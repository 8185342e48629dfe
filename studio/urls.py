from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from drafts import urls as drafts_urls
from drafts.views.workspace import workspace
from prompts.experiments.views.generate import generate
from studio.accounts import LoginForm, ResetForm
from studio.dashboard.views import dashboard
from studio.landing import LoginView
from studio.provider_status import provider_status
from studio.views import healthz
from studio.workspaces import invitations
from studio.workspaces.members import members
from studio.workspaces.views import home

generate_route = path("w/<int:pk>/generate/", generate, name="generate")

urlpatterns = [
    path("", home, name="home"),
    path("w/<int:pk>/", workspace, name="workspace"),
    path("w/<int:pk>/dashboard/", dashboard, name="dashboard"),
    path("w/<int:pk>/members/", members, name="members"),
    path("invitations/", invitations.invitations, name="invitations"),
    path("invitations/<int:pk>/", invitations.answer, name="invitation"),
    path("invitations/join/<str:token>/", invitations.join, name="invitation_join"),
    # drafts' routes, with the workspace's Generate in their namespace (drafts:generate): its
    # view picks an experiment's variant, so it lives above drafts
    # (prompts/experiments/views/generate.py).
    path("", include(([generate_route, *drafts_urls.urlpatterns], drafts_urls.app_name))),
    path("", include("prompts.urls")),
    path("", include("prompts.knowledge.urls")),
    path("", include("studio.campaigns.urls")),
    # Log in and out, change one's password, and reset a forgotten one by email (Django's
    # views; the reset form is throttled per address: studio/accounts.py).
    path("accounts/login/", LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=ResetForm),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
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
# The 500 page, and a 503 "busy" for a request that waited too long for the database.
handler500 = "studio.views.server_error"
