"""URLs of the inventory app."""

urlpatterns: list = []
