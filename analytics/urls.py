"""URLs of the analytics app."""

urlpatterns: list = []
