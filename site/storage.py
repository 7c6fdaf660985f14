"""Uploads on S3-compatible object storage, addressed through the app.

django-storages would hand out the bucket's own (signed) URLs, which skip the
checks of who may see a lecture's images and expire while cached lecture pages
still name them. Here a file's URL is the app's address under MEDIA_URL, the same
as on a local disk: the app checks who asks and reads the file from the bucket
(learning/media.py). The bucket itself stays private."""

from django.conf import settings
from django.utils.encoding import filepath_to_uri

from storages.backends.s3 import S3Storage


class AppServedS3Storage(S3Storage):
    def url(self, name, parameters=None, expire=None, http_method=None):
        return settings.MEDIA_URL + filepath_to_uri(name)
