from django.urls import path

from improvement.views import home

app_name = "improvement"

urlpatterns = [
    path("", home.home, name="home"),
]
