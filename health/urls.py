"""URLs of the health app."""

urlpatterns: list = []
