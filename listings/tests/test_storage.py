"""Pictures in S3-compatible object storage (what a site on several machines uses), against a real
S3 server on 127.0.0.1: moto's server mode, started here. Upload, renditions, pages, removal.

Pages link straight to the bucket's public address: no picture is served through Django.
"""

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.core.management import call_command
from django.urls import reverse

from listings.models import Listing
from listings.tests.admin_forms import FORM_DEFAULTS
from listings.tests.factories import image_file
from listings.tests.servers import free_port

BUCKET = "merchex-media"
PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    ],
}
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "merchex-test",
    "AWS_SECRET_ACCESS_KEY": "merchex-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3-compatible server (moto's server mode, from PyPI) on a free local port."""
    port = free_port()
    command = shutil.which("moto_server") or str(
        __import__("pathlib").Path(sys.executable).with_name("moto_server")
    )
    server = subprocess.Popen(
        [command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("moto_server did not start")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """Settings as merchex makes them from MERCHEX_S3_BUCKET and DJANGO_MEDIA_URL."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    # Fans read the pictures straight from the bucket: public reads, as the README's policy.
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
    settings.MEDIA_URL = f"{s3_endpoint}/{BUCKET}/"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "custom_domain": f"{s3_endpoint.removeprefix('http://')}/{BUCKET}",
                "url_protocol": "http:",
                "querystring_auth": False,
                "file_overwrite": False,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client):
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.mark.django_db
def test_pictures_live_in_the_bucket_from_upload_to_removal(
    admin_client, client, bucket, s3_endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse(admin_urlname(Listing._meta, "add")),
            {
                "title": "Tour tee",
                "type": "Clothing",
                "description": "",
                "published": "on",
                "add_pictures": [image_file(1000, 800)],
                "add_pictures_alt": "The tee, front",
                **FORM_DEFAULTS,
            },
        )
    assert response.status_code == 302
    listing = Listing.objects.get()
    stored = keys(bucket)
    assert len(stored) == 9  # the master; 320, 640, 960 and 1000 wide as WebP and JPEG
    assert all(re.match(r"^pictures/[0-9a-f]{32}(-\d+\.(webp|jpg)|\.jpg)$", key) for key in stored)

    page = client.get(listing.get_absolute_url()).text
    links = re.findall(rf'{re.escape(s3_endpoint)}/{BUCKET}/pictures/[^" ]+', page)
    assert links, "the page links to the bucket"
    assert "/media/" not in page
    with urllib.request.urlopen(links[0], timeout=5) as picture:
        assert picture.status == 200
        assert picture.headers["Content-Type"] in ("image/webp", "image/jpeg")
        assert "immutable" in picture.headers["Cache-Control"]

    call_command("prunepictures")  # lists the bucket: nothing to prune
    assert len(keys(bucket)) == 9
    with django_capture_on_commit_callbacks(execute=True):
        listing.delete()
    assert keys(bucket) == []
