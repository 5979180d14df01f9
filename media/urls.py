from __future__ import annotations

from django.urls import path, register_converter

from media import views
from media.kinds import KindConverter, KindSlugConverter

register_converter(KindConverter, "kind")
register_converter(KindSlugConverter, "kindslug")

app_name = "media"
urlpatterns = [
    path("", views.home, name="home"),
    path("saved/", views.saved, name="saved"),
    path("offline/", views.offline, name="offline"),
    path("manifest.webmanifest", views.web_manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("save/<kind:kind>/<int:pk>/", views.save, name="save"),
    path("track/<kind:kind>/<int:pk>/", views.track, name="track"),
    path("<kindslug:kind>/", views.item_list, name="list"),
    path("<kindslug:kind>/<int:pk>/", views.item_detail, name="item"),
]
