from tokens.api.multipurpose_urls import urlpatterns as multipurpose_urlpatterns
from tokens.api.session_urls import urlpatterns as session_urlpatterns

urlpatterns = [*session_urlpatterns, *multipurpose_urlpatterns]
