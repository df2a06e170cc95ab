from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView, TemplateView

from improvement.forms.auth import SignInForm


class FaviconView(RedirectView):
    """/favicon.ico, which browsers ask for on pages that name no icon (the Django admin's).

    Temporary, because the static URL carries a content hash that changes with each release.
    static/favicon.ico holds 16, 32 and 48 pixel PNGs of static/images/favicon.svg.
    """

    permanent = False

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.ico")


urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=SignInForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accessibility/",
        login_not_required(
            TemplateView.as_view(template_name="improvement/accessibility_statement.html")
        ),
        name="accessibility-statement",
    ),
    path("admin/", admin.site.urls),
    path("favicon.ico", login_not_required(FaviconView.as_view()), name="favicon"),
    path("", include("improvement.urls")),
]
