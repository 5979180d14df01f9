from __future__ import annotations

from django.urls import path, register_converter

from media.kinds import KindConverter, KindSlugConverter
from media.views import exports, imports, pages, pwa, saving, search

register_converter(KindConverter, "kind")
register_converter(KindSlugConverter, "kindslug")

app_name = "media"
urlpatterns = [
    path("", pages.home, name="home"),
    path("saved/", pages.saved, name="saved"),
    path("search/", search.search, name="search"),
    path("search/<kind:kind>/online/", search.online, name="search_online"),
    path("add/<kind:kind>/", search.add, name="add"),
    path("import/", imports.upload, name="import"),
    path("import/<int:pk>/", imports.detail, name="import_detail"),
    path("import/<int:pk>/apply/", imports.apply, name="import_apply"),
    path("import/<int:pk>/cancel/", imports.cancel, name="import_cancel"),
    path("import/<int:pk>/rows/<int:index>/", imports.row, name="import_row"),
    path("offline/", pwa.offline, name="offline"),
    path("manifest.webmanifest", pwa.web_manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("save/<kind:kind>/<int:pk>/", saving.save, name="save"),
    path("track/<kind:kind>/<int:pk>/", saving.track, name="track"),
    path("export/", exports.export_page, name="export"),
    path("export/shelf.json", exports.shelf_json, name="export_json"),
    path("export/shelf.csv", exports.shelf_csv, name="export_csv"),
    path("export/<str:kind>.xml", exports.mal_xml, name="export_mal"),
    path("export/<str:kind>.xml.gz", exports.mal_xml, {"gzip": True}, name="export_mal_gz"),
    path("<kindslug:kind>/", pages.item_list, name="list"),
    path("<kindslug:kind>/<int:pk>/", pages.item_detail, name="item"),
]
