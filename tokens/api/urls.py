from tokens.api.multipurpose.urls import urlpatterns as multipurpose_urlpatterns
from tokens.api.sessions.urls import urlpatterns as session_urlpatterns

urlpatterns = [*session_urlpatterns, *multipurpose_urlpatterns]
