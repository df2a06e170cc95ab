from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import TemplateView

from improvement.forms.auth import SignInForm

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
    path("", include("improvement.urls")),
]
